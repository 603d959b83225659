/** Hands bytes to the browser (or Electron's) download, as a file with this name. */
export function saveFile(filename: string, data: BlobPart, type: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([data], { type }));
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}
