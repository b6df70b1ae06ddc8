/** Personal API tokens as /api/me/tokens answers them (docs/API.md, "API tokens"). */

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  projects: string[];
  created_at: string;
  last_used_at: string | null;
}

export interface CreatedToken extends ApiToken {
  token: string;
}

export interface ProjectChoice {
  slug: string;
  name: string;
}

/** "never" or the time, in the browser's locale, of a token's last use. */
export function lastUsedText(token: ApiToken, locale?: string): string {
  return token.last_used_at ? new Date(token.last_used_at).toLocaleString(locale) : "never";
}

/** What a token reaches: every project of the user, or the named ones. */
export function scopeText(token: ApiToken, projects: ProjectChoice[]): string {
  if (token.projects.length === 0) return "all my projects";
  const names = new Map(projects.map((p) => [p.slug, p.name]));
  return token.projects.map((slug) => names.get(slug) ?? slug).join(", ");
}

/** The request body of a new token; the name trimmed, checked before sending. */
export function createBody(name: string, picked: string[]): { name: string; projects: string[] } | string {
  const trimmed = name.trim();
  if (!trimmed) return "Give the token a name (what script or machine uses it).";
  if (trimmed.length > 100) return "The name is longer than 100 characters.";
  return { name: trimmed, projects: [...new Set(picked)].sort() };
}
