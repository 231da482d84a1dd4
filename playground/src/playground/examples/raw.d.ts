/** Vite's `?raw` imports: the example scripts are plain text files, read as strings. */
declare module "*.txt?raw" {
  const text: string;
  export default text;
}
