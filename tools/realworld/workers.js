// workers.js (tools/realworld): 4 worker_threads doing CPU work, results by postMessage.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
if (isMainThread) {
  let done = 0, total = 0;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(__filename, { workerData: 2000000 });
    w.on('message', (v) => { total += v; if (++done === 4) console.log('total ' + total); });
  }
} else {
  let s = 0;
  for (let i = 0; i < workerData; i++) s = (s + i * i) % 1000003;
  parentPort.postMessage(s);
}
