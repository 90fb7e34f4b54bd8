import type { AnyDesc, DescFile } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

/** The leading comment of a proto element as Markdown, or undefined if it has none. */
export function describe(desc: Exclude<AnyDesc, DescFile>): string | undefined {
  const leading = getComments(desc).leading;
  if (leading === undefined) return undefined;
  // Proto comments indent every line by one space after `//`; Markdown
  // would read deeper indentation as a code block.
  const text = leading
    .split("\n")
    .map((line) => line.trim())
    .join("\n")
    .trim();
  return text === "" ? undefined : text;
}

/** `{ description }` when there is one, so documents carry no empty descriptions. */
export function descriptionOf(
  desc: Exclude<AnyDesc, DescFile>,
  extra: readonly (string | undefined)[] = [],
): { description?: string } {
  const parts = [describe(desc), ...extra].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? {} : { description: parts.join("\n\n") };
}
