"""Node.js functions (``nodejs18.x``/``20.x``/``22.x``): the local ``node`` running a small Runtime API
client of awsemu's own.

The client (``BOOTSTRAP_JS`` below, written once to ``<lambda data>/runtimes/nodejs.js``: the wheel
ships Python modules only) does what AWS's Node runtime interface client does:

- init: load ``_HANDLER`` (``dir/file.function``) from ``LAMBDA_TASK_ROOT`` with ``import()`` (so
  ``.mjs``, ``.cjs`` and ``.js`` of either module kind load), trying ``.js``, ``.mjs``, ``.cjs``;
  failures are ``/init/error`` with ``Runtime.ImportModuleError`` or ``Runtime.HandlerNotFound``;
- loop: ``GET /invocation/next``, call the handler (async, or callback style with three
  parameters), POST the JSON of its result (``undefined`` is ``null``) or the error document
  ``{errorType, errorMessage, trace}``;
- ``awslambda.streamifyResponse(handler)``: the handler gets ``(event, responseStream, context)``
  and its writes go out as a chunked ``streaming`` response (``Lambda-Runtime-Function-Response-Mode``);
  an error after the first write goes in the trailers, as AWS's client does;
  ``awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies})`` writes the prelude
  function URLs read their status and headers from (function_url_stream.py);
- ``console.log``/``info``/``warn``/``error`` lines carry the timestamp, request id and level.

Version: the runtime's major version is not enforced: any local ``node`` runs every ``nodejs*.x``
runtime (a mismatch is logged once). Without ``node`` on PATH the invoke fails with
``Runtime.Unavailable`` (functions can still be created). Memory: ``--max-old-space-size`` is set to
MemorySize minus a margin, the heap limit AWS's runtime derives from it too.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

from awsemu.services.lambda_ import functions as fx

log = logging.getLogger("awsemu.lambda")

NODE_RUNTIMES = fx.NODE_RUNTIMES
_versions: dict[str, str] = {}
_warned: set[tuple[str, str]] = set()


def node_binary() -> str | None:
    return shutil.which("node")


def _major(node: str) -> str:
    if node not in _versions:
        try:
            out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        match = re.match(r"v(\d+)", out.strip())
        _versions[node] = match.group(1) if match else "?"
    return _versions[node]


def argv_for(runtime: str, folder: Path, memory_mb: int) -> list[str] | None:
    """The command that starts a Node environment, or None when no ``node`` is installed."""
    node = node_binary()
    if node is None:
        return None
    wanted = runtime.removeprefix("nodejs").removesuffix(".x")
    have = _major(node)
    if have != wanted and (runtime, have) not in _warned:
        _warned.add((runtime, have))
        log.warning("%s functions run on the local node v%s (no node %s found)", runtime, have, wanted)
    heap = max(64, memory_mb - max(32, memory_mb // 10))
    return [node, f"--max-old-space-size={heap}", str(bootstrap_file(folder))]


def bootstrap_file(folder: Path) -> Path:
    """The client script in ``folder`` (rewritten when it differs from this version's)."""
    path = folder / "nodejs.js"
    try:
        if path.read_text() == BOOTSTRAP_JS:
            return path
    except OSError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(BOOTSTRAP_JS)
    scratch.replace(path)
    return path


def node_path(opt: Path | None) -> str | None:
    """NODE_PATH of the merged layers (AWS's ``/opt/nodejs/node_modules`` layout)."""
    if opt is None:
        return None
    return ":".join(str(opt / "nodejs" / sub) for sub in ("node_modules", "node20/node_modules",
                                                          "node22/node_modules", "node18/node_modules"))


UNAVAILABLE = ("Runtime.Unavailable",
               "awsemu runs {runtime} functions with a local `node`, and none is installed (PATH has no node)")


BOOTSTRAP_JS = r"""'use strict';
// awsemu's Runtime API client for Node.js functions (see awsemu/services/lambda_/node_runtime.py).
const http = require('http');
const path = require('path');
const fs = require('fs');
const { pathToFileURL } = require('url');
const { format } = require('util');

const [apiHost, apiPort] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const PREFIX = '/2018-06-01/runtime';
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
let currentRequestId = '';

function call(method, route, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: apiHost, port: apiPort, method, path: PREFIX + route, agent,
                               headers: Object.assign({}, headers || {}) }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', reject);
    req.end(body);
  });
}

for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  const tag = level === 'log' ? 'INFO' : level.toUpperCase();
  const stream = level === 'error' || level === 'warn' ? process.stderr : process.stdout;
  console[level] = (...args) => {
    stream.write(`${new Date().toISOString()}\t${currentRequestId}\t${tag}\t${format(...args)}\n`);
  };
}

function errorDocument(err) {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message,
             trace: String(err.stack || '').split('\n') };
  }
  return { errorType: 'string', errorMessage: String(err), trace: [] };
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${spec}`), { runtimeType: 'Runtime.MalformedHandlerName' });
  }
  const moduleName = spec.slice(0, dot);
  const names = spec.slice(dot + 1).split('.');
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const file = ['.js', '.mjs', '.cjs'].map((ext) => path.resolve(root, moduleName + ext)).find((f) => fs.existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), { runtimeType: 'Runtime.ImportModuleError' });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    err.runtimeType = err instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    throw err;
  }
  let target = mod;
  for (const name of names) {
    target = target === undefined ? undefined : (target[name] !== undefined ? target[name] : (target.default || {})[name]);
  }
  if (typeof target !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), { runtimeType: 'Runtime.HandlerNotFound' });
  }
  return target;
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const env = process.env;
  const clientContext = headers['lambda-runtime-client-context'];
  return {
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME, callbackWaitsForEmptyEventLoop: true,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined, identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runBuffered(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(value);
    };
    try {
      const out = handler(event, context, done);
      if (out && typeof out.then === 'function') out.then((v) => done(null, v), (e) => done(e));
      else if (handler.length < 3) done(null, out);
    } catch (err) {
      done(err);
    }
  });
}

function runStreaming(handler, event, context, requestId) {
  return new Promise((resolve) => {
    const headers = { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Transfer-Encoding': 'chunked',
                      'Trailer': 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body' };
    const req = http.request({ host: apiHost, port: apiPort, method: 'POST', agent, headers,
                               path: `${PREFIX}/invocation/${requestId}/response` }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', resolve);
    let ended = false;
    const stream = {
      setContentType: (type) => { if (!req.headersSent) req.setHeader('Content-Type', type); },
      write: (chunk, encoding, cb) => req.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, cb),
      end: (chunk, encoding, cb) => {
        if (ended) return;
        ended = true;
        if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') stream.write(chunk, encoding);
        req.end(typeof chunk === 'function' ? chunk : cb);
      },
      fail: (err) => {
        if (ended) return;
        ended = true;
        const doc = errorDocument(err);
        req.addTrailers({ 'Lambda-Runtime-Function-Error-Type': doc.errorType,
                          'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(doc)).toString('base64') });
        req.end();
      },
      on: () => stream, once: () => stream,
    };
    Promise.resolve().then(() => handler(event, stream, context)).then(
      () => stream.end(),
      (err) => { console.error('Invoke Error', JSON.stringify(errorDocument(err))); stream.fail(err); });
  });
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = true;
    return handler;
  },
  HttpResponseStream: {
    // a function URL's status, headers and cookies: a JSON prelude and eight NUL bytes before the body
    from(stream, metadata) {
      stream.setContentType('application/vnd.awslambda.http-integration-response');
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(metadata || {})), Buffer.alloc(8)]));
      return stream;
    },
  },
};

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const doc = errorDocument(err);
    doc.errorType = err.runtimeType || 'Runtime.ImportModuleError';
    doc.errorMessage = `${doc.errorType === 'Runtime.HandlerNotFound' ? '' : 'Error: '}${err.message}`;
    console.error(JSON.stringify(doc));
    await call('POST', '/init/error', JSON.stringify(doc),
               { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    process.exit(1);
  }
  for (;;) {
    let next;
    try {
      next = await call('GET', '/invocation/next');
    } catch (err) {
      process.exit(0); // the server stopped or retired this environment
    }
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    const context = makeContext(next.headers);
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
    } catch (err) {
      event = next.body.toString('utf8');
    }
    if (handler[STREAMING]) {
      await runStreaming(handler, event, context, requestId);
      continue;
    }
    try {
      const result = await runBuffered(handler, event, context);
      const body = JSON.stringify(result === undefined ? null : result);
      await call('POST', `/invocation/${requestId}/response`, body, { 'Content-Type': 'application/json' });
    } catch (err) {
      const doc = errorDocument(err);
      console.error('Invoke Error', JSON.stringify(doc));
      await call('POST', `/invocation/${requestId}/error`, JSON.stringify(doc),
                 { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    }
  }
}

main();
"""
