export interface Violation {
  file: string;
  import: string;
  rule: string;
  why: string;
}
export function checkLayers(root: string): Violation[];
export function importsOf(source: string): string[];
