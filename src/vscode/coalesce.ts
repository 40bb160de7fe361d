// Many state changes in a burst, one repaint: `schedule()` runs `fn` once, `ms` after the
// first call of the burst. Disposing drops a pending run.
export interface Coalesced {
  schedule(): void;
  dispose(): void;
}

export function coalesced(fn: () => void, ms: number): Coalesced {
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule() {
      timer ??= setTimeout(() => {
        timer = undefined;
        fn();
      }, ms);
    },
    dispose() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
