// One shared 1 s timer for every ticking duration on screen.
const subs = new Set();
let timer = 0;

export function onTick(fn) {
  subs.add(fn);
  if (!timer) {
    timer = setInterval(() => {
      const now = Date.now();
      for (const f of subs) f(now);
    }, 1000);
  }
  return () => {
    subs.delete(fn);
    if (!subs.size && timer) {
      clearInterval(timer);
      timer = 0;
    }
  };
}
