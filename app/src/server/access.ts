/**
 * Who may use the studio: whoever has its token, as Jupyter does. The URL the studio prints carries the
 * token once; the page then holds it in a cookie (HttpOnly, SameSite=Strict, so other sites cannot make the
 * browser use it). On loopback, requests for another Host are refused, so a web page cannot reach the studio
 * through a DNS name that points at 127.0.0.1.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

export const TOKEN_COOKIE = "dualproc_studio";

export function newToken(): string {
  return randomBytes(24).toString("hex");
}

/** @param allowedHosts the Host headers to accept; null accepts any (a studio bound beyond loopback). */
export function accessControl(token: string, allowedHosts: Set<string> | null): MiddlewareHandler {
  return async (c, next) => {
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (allowedHosts && !allowedHosts.has(host))
      return c.text(`dualproc studio: requests for host '${host}' are refused`, 403);
    const fromUrl = c.req.query("token");
    if (fromUrl !== undefined && same(fromUrl, token)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
      // Drop the token from the address bar (and from the history) once the cookie holds it.
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      return c.redirect(url.pathname + url.search, 303);
    }
    const presented = getCookie(c, TOKEN_COOKIE) ?? bearer(c.req.header("authorization"));
    if (presented !== undefined && same(presented, token)) return next();
    if (c.req.path.startsWith("/api/"))
      return c.json(
        { error: "not signed in: open the URL with the token that `dualproc studio` printed" },
        401,
      );
    return c.html(SIGN_IN_PAGE, 401);
  };
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer (\S+)$/.exec(header ?? "");
  return match?.[1];
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const SIGN_IN_PAGE =
  "<!doctype html><title>dualproc studio</title><p>This studio needs its access token. Open the URL that " +
  "<code>dualproc studio</code> printed in its terminal (it ends in <code>?token=…</code>).</p>";
