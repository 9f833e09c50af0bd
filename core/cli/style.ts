/**
 * Terminal styling that disappears when it should: ANSI codes only when the stream is a TTY and
 * neither NO_COLOR nor TERM=dumb says otherwise (https://no-color.org).
 */

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  cyan(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

const ANSI: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  cyan: wrap(36, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
};

const identity = (text: string) => text;
export const PLAIN: Style = {
  bold: identity,
  dim: identity,
  cyan: identity,
  green: identity,
  yellow: identity,
};

export function styleFor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): Style {
  const color = stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return color ? ANSI : PLAIN;
}
