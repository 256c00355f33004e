// Node worker_threads: 4 workers each sum a range and post the result back.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
if (isMainThread) {
  const n = 4, per = Number(process.argv[2] || 20000000);
  let done = 0, total = 0;
  for (let i = 0; i < n; i++) {
    const w = new Worker(__filename, { workerData: { from: i * per, to: (i + 1) * per } });
    w.on('message', (s) => { total += s; if (++done === n) console.log('sum', total); });
  }
} else {
  let s = 0;
  for (let i = workerData.from; i < workerData.to; i++) s += i % 7;
  parentPort.postMessage(s);
}
