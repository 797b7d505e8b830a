import type * as vscode from 'vscode';

/**
 * Whole-document text, fetched once per document version: building the string of a large file
 * costs milliseconds, and many requests arrive between two edits.
 */
export class DocumentTexts {
  private readonly texts = new WeakMap<vscode.TextDocument, { version: number; text: string }>();

  get(document: vscode.TextDocument): string {
    const cached = this.texts.get(document);
    if (cached?.version === document.version) return cached.text;
    const text = document.getText();
    this.texts.set(document, { version: document.version, text });
    return text;
  }
}
