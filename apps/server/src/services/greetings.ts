/** "Hello" in the languages GreetStream cycles through, with their BCP 47 tags. */
const HELLOS = [
  { language: "en", hello: "Hello" },
  { language: "es", hello: "Hola" },
  { language: "fr", hello: "Bonjour" },
  { language: "de", hello: "Hallo" },
  { language: "it", hello: "Ciao" },
  { language: "pt", hello: "Olá" },
  { language: "nl", hello: "Hallo" },
  { language: "sv", hello: "Hej" },
  { language: "tr", hello: "Merhaba" },
  { language: "sw", hello: "Jambo" },
] as const;

export interface Greeting {
  greeting: string;
  language: string;
}

/** The n-th greeting of a series: English first, then round the list. */
export function greetingFor(name: string, n = 0): Greeting {
  const { language, hello } = HELLOS[n % HELLOS.length] ?? HELLOS[0];
  return { greeting: `${hello}, ${name}!`, language };
}

// en-GB joins without the serial comma: "Ada, Grace and Linus".
const listFormat = new Intl.ListFormat("en-GB", { style: "long", type: "conjunction" });

/** One greeting for many: "Hello, Ada, Grace and Linus!". */
export function greetingForAll(names: readonly string[]): string {
  return `Hello, ${listFormat.format(names)}!`;
}
