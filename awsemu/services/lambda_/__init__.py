"""Lambda: functions from zip packages, run as local execution environments.

Map of the package:

- provider.py        the operations (functions, versions, invoke) + mixins: alias_ops.py,
                     account_ops.py (settings, tags, concurrency), layer_ops.py, policy.py,
                     event_invoke_config.py, function_url_ops.py (+ function_url_http.py,
                     function_url_cors.py), esm_ops.py (+ pollers.py, event_filter.py),
                     stream_ops.py (InvokeWithResponseStream; framing in event_stream.py)
- functions.py       control-plane records on lsm, names and ARNs; checks.py parameter checks
- code.py            zip packages in the blob store, unpacked trees under <data>/lambda/code/
- layers.py          layer records and the merged layer directory (/opt in the sandbox)
- invoke.py          sync and async invocations, throttling, timeouts, log tails
- delivery.py        dead-letter queues and destinations of async invocations, OnFailure records
                     of stream event source mappings (via SQS's API)
- pool.py            execution environments: fork servers (one per interpreter, or in the
                     sandbox one per interpreter, code and layers), SnapStart templates, warm
                     reuse, reaping, kills
- sandbox.py         isolation: the bubblewrap sandbox (/var/task, /opt, private /tmp) or plain
                     processes (AWSEMU_LAMBDA_SANDBOX)
- forking.py         clients of fork_server.py processes: fork servers and SnapStart templates
- interpreters.py    which local Python runs a python3.N function (and the SDK it gets)
- runtime_api.py     the Runtime API (2018-06-01) server the environments talk to
- fork_server.py     the pre-initialized interpreter that forks environments (runs standalone)
- python_runtime.py  the runtime loop inside a Python environment (runs standalone)
- node_runtime.py    nodejs*.x functions: the local node running awsemu's own Runtime API client
"""
