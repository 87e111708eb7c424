/**
 * The question helper: one question in, several phrasings and the matching visual prompt out, offline (rules
 * and templates, no model). The paper asked each control in several phrasings; averaging over wordings keeps
 * the generator from learning one wording's quirks.
 *
 * Controls with a visual prompt (horizon line, palette strip, sample stroke, points, layout) get curated
 * phrasings; any other yes/no question is rephrased by rules on its first words ("Is there X?" ->
 * "Does the image contain X?", ...).
 */
import type { Overlay } from "../protocol/overlay.js";

export type ControlKind = Overlay["kind"] | "plain";

export interface QuestionSuggestion {
  kind: ControlKind;
  /** The question first, then the other phrasings; no duplicates. */
  phrasings: string[];
  /** The visual prompt the phrasings refer to (edit its numbers), or null for a plain question. */
  visualPrompt: Overlay | null;
  /** What to edit in the visual prompt, for people. */
  hint: string | null;
}

/** A question the helper cannot work with: the message says what to write instead. */
export class QuestionHelperError extends Error {
  override name = "QuestionHelperError";
}

interface ControlTemplate {
  kind: Overlay["kind"];
  /** Words that give the control away, matched as whole words, lower case. */
  cues: RegExp;
  phrasings: string[];
  visualPrompt: Overlay;
  hint: string;
}

const CONTROLS: ControlTemplate[] = [
  {
    kind: "horizon",
    // the red line is the visual prompt; "is the horizon high?" alone is a plain question
    cues: /\b(red line|line (?:on|at|along|with) the horizon|horizon line)\b/,
    phrasings: [
      "Is the red line on the horizon?",
      "Does the red line lie exactly along the horizon?",
      "Is the red line drawn at the height of the horizon?",
      "Does the red line follow the edge where the sky meets the ground?",
      "Is the red line aligned with the horizon?",
    ],
    visualPrompt: { kind: "horizon", y: 0.5 },
    hint: "set y to the wanted height of the horizon, as a fraction of the image height from the top",
  },
  {
    kind: "stroke",
    cues: /\b(stroke|strokes|thick|thickness|thin|line weight|line width|outline width|outlines)\b/,
    phrasings: [
      "Are the lines in the drawing as thick as the sample stroke at the bottom?",
      "Does the outline width match the sample line at the bottom?",
      "Do the outlines have the same thickness as the bottom sample?",
      "Is the drawing's line weight the same as the stroke shown below?",
    ],
    visualPrompt: { kind: "stroke", width_px: 2 },
    hint: "set width_px to the wanted stroke width in pixels at 64 px",
  },
  {
    kind: "palette",
    cues: /\b(palette|colou?rs|swatch|swatches|hues)\b/,
    phrasings: [
      "Does the image use the colours in the strip at the bottom?",
      "Is the image painted with the palette shown at the bottom?",
      "Is the colour palette at the bottom the one this image uses?",
      "Do the swatches at the bottom match the colours of the image?",
    ],
    visualPrompt: { kind: "palette", colors: ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"] },
    hint: "list the wanted colours as #rrggbb (or use kind: palette_from_image with a picture)",
  },
  {
    kind: "points",
    cues: /\b(point a|point b|closer|nearer|farther|further|in front of|behind)\b/,
    phrasings: [
      "Is point A closer to the viewer than point B?",
      "Is the object at point A nearer to the camera than the object at point B?",
      "Is point A in front of point B?",
      "Does point A mark something closer than point B does?",
    ],
    visualPrompt: { kind: "points", a: [0.3, 0.8], b: [0.7, 0.55] },
    hint: "move a and b ([x, y] fractions from the top-left) onto the two things to order",
  },
  {
    kind: "layout",
    cues: /\b(layout|boxes|box|composition|arranged|placed where)\b/,
    phrasings: [
      "Does the image follow the layout drawn on it?",
      "Are the objects where the labelled boxes say they are?",
      "Does the picture match the annotated layout?",
      "Does each labelled box contain the object it names?",
    ],
    visualPrompt: {
      kind: "layout",
      boxes: [
        { box: [0.05, 0.35, 0.4, 0.8], label: "tree" },
        { box: [0.55, 0.45, 0.95, 0.85], label: "house" },
      ],
    },
    hint: "draw one box ([x0, y0, x1, y1] fractions) per object, labelled with its name",
  },
];

/** What a question asks about, without a trailing "in the image" the rephrasings add themselves. */
const subject = (text: string) => text.replace(/ in (?:the|this) (?:image|picture|photo|scene)$/i, "");

/** Rules for plain yes/no questions: a pattern on the question and the rephrasings it allows. */
const RULES: { pattern: RegExp; rewrite: (m: RegExpMatchArray) => string[] }[] = [
  {
    pattern: /^(?:is|are) there (.+)$/i,
    rewrite: (m) => [
      `Does the image contain ${subject(m[1]!)}?`,
      `Can you see ${subject(m[1]!)} in the image?`,
      `Is ${subject(m[1]!)} visible in the image?`,
    ],
  },
  {
    pattern: /^does the (?:image|picture|scene) (?:show|contain|depict) (.+)$/i,
    rewrite: (m) => [
      `Is there ${subject(m[1]!)} in the image?`,
      `Can you see ${subject(m[1]!)} in the image?`,
    ],
  },
  {
    pattern: /^is it (.+)$/i,
    rewrite: (m) => [
      `Would you say it is ${m[1]}?`,
      `Does the image look like it is ${m[1]}?`,
      `In this image, is it ${m[1]}?`,
    ],
  },
  {
    // "Is the sky cloudy" -> "Does the sky look cloudy?", "Would you say the sky is cloudy?"
    pattern: /^(is|are) ((?:the|this|these|those|that) \w+(?: \w+)?) (\w+)$/i,
    rewrite: (m) => {
      const verb = m[1]!.toLowerCase();
      const look = verb === "are" ? "Do" : "Does";
      return [`${look} ${m[2]} look ${m[3]}?`, `Would you say ${m[2]} ${verb} ${m[3]}?`];
    },
  },
  {
    pattern: /^(can|could) you see (.+)$/i,
    rewrite: (m) => [`Is there ${subject(m[2]!)} in the image?`, `Does the image contain ${subject(m[2]!)}?`],
  },
];

const YES_NO_START = /^(is|are|does|do|did|was|were|has|have|can|could|will|would|should)\b/i;

function normalise(question: string): string {
  const trimmed = question.trim().replace(/\s+/g, " ");
  if (trimmed === "")
    throw new QuestionHelperError(
      "the question is empty; write a yes/no question such as 'Is it night-time?'",
    );
  const body = trimmed.replace(/[?.!\s]+$/, "");
  return body.charAt(0).toUpperCase() + body.slice(1);
}

export function suggestQuestions(question: string, count = 5): QuestionSuggestion {
  const body = normalise(question);
  const asked = `${body}?`;
  const lower = body.toLowerCase();
  const control = CONTROLS.find((c) => c.cues.test(lower));
  if (control) {
    return {
      kind: control.kind,
      phrasings: unique([asked, ...control.phrasings]).slice(0, count),
      visualPrompt: control.visualPrompt,
      hint: control.hint,
    };
  }
  if (!YES_NO_START.test(body)) {
    throw new QuestionHelperError(
      `'${question.trim()}' is not a yes/no question; start with Is, Are, Does, Do, Can, ... (e.g. 'Is it night-time?')`,
    );
  }
  const rewrites = RULES.flatMap((rule) => {
    const m = body.match(rule.pattern);
    return m ? rule.rewrite(m) : [];
  });
  const generic = [`Looking at the image, ${lowerFirst(body)}?`, `In this picture, ${lowerFirst(body)}?`];
  return {
    kind: "plain",
    phrasings: unique([asked, ...rewrites, ...generic]).slice(0, count),
    visualPrompt: null,
    hint: null,
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function unique(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((q) => {
    const key = q.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The suggestion as the `questions:` block of a recipe, weights splitting 1 across the phrasings. */
export function questionsYaml(s: QuestionSuggestion, answer = "Yes"): string {
  const weight = Number((1 / s.phrasings.length).toFixed(3));
  const prompt = s.visualPrompt ? `    visual_prompt: ${JSON.stringify(s.visualPrompt)}\n` : "";
  const lines = s.phrasings.map(
    (q) => `  - question: ${JSON.stringify(q)}\n    answer: ${answer}\n    weight: ${weight}\n${prompt}`,
  );
  const hint = s.hint ? `# visual prompt: ${s.hint}\n` : "";
  return `${hint}questions:\n${lines.join("")}`;
}
