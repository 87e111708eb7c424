/** What the engine warned about while drawing (words of the prompt the generator does not know), one line each. */
export function Warnings({ warnings, testId }: { warnings: string[]; testId: string }) {
  return (
    <>
      {warnings.map((warning) => (
        <p key={warning} class="warning" role="status" data-testid={testId}>
          {warning}
        </p>
      ))}
    </>
  );
}
