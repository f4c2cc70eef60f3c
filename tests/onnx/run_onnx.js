// Runs ONNX models in onnxruntime-node for tests/onnx/onnx_test.py.
//   node run_onnx.js MODULES_DIR JOBS.json RESULTS.json
// MODULES_DIR: the folder whose node_modules holds onnxruntime-node
// (scripts/onnx-runtime installs it). JOBS.json: a list of
// {"model": path, "float64": bool, "columns": n0, "rows": [[x, ...], ...]};
// each job runs the model once on all its rows as one batch. RESULTS.json:
// per job, {"outputs": {name: {"dims": [...], "data": [...]}}} or {"error": text}.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, jobsPath, resultsPath] = process.argv.slice(2);
  if (!resultsPath) {
    console.error('usage: node run_onnx.js MODULES_DIR JOBS.json RESULTS.json');
    process.exit(2);
  }
  const ort = require(path.join(path.resolve(modules), 'node_modules', 'onnxruntime-node'));
  const jobs = JSON.parse(fs.readFileSync(jobsPath, 'utf8'));
  const results = [];
  for (const job of jobs) {
    try {
      const session = await ort.InferenceSession.create(job.model);
      const flat = job.rows.flat();
      const data = job.float64 ? Float64Array.from(flat) : Float32Array.from(flat);
      const input = new ort.Tensor(job.float64 ? 'float64' : 'float32', data, [job.rows.length, job.columns]);
      const out = await session.run({ [session.inputNames[0]]: input });
      const outputs = {};
      for (const name of session.outputNames) {
        const t = out[name];
        outputs[name] = { type: t.type, dims: Array.from(t.dims), data: Array.from(t.data) };
      }
      results.push({ outputs });
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  fs.writeFileSync(resultsPath, JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
