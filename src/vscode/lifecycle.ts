// A Disposable base: everything a class creates is registered once and disposed with it
// (after vscode-pull-request-github's common/lifecycle.ts).
import type * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private readonly toDispose: { dispose(): unknown }[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends { dispose(): unknown }>(d: T): T {
    if (this.disposed) d.dispose();
    else this.toDispose.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.toDispose.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // one failing disposable must not keep the others alive
      }
    }
  }
}

/** A disposable wrapper for a timer. */
export function interval(fn: () => void, ms: number): vscode.Disposable {
  const t = setInterval(fn, ms);
  return { dispose: () => clearInterval(t) };
}
