import type { Locator, Page } from "playwright-core";

/** What GreetStream sends for `name` in the page's 5 greetings, in order. */
export const fiveGreetings = (name: string): string[] =>
  ["Hello", "Hola", "Bonjour", "Hallo", "Ciao"].map((hello) => `${hello}, ${name}!`);

/** Types `name` and starts the stream panel; the list items as they arrive. */
export async function startStream(page: Page, name: string): Promise<Locator> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Stream greetings" }).click();
  return page.getByRole("list", { name: "Streamed greetings" }).getByRole("listitem");
}
