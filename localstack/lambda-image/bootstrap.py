"""/var/runtime/bootstrap.py: the Python runtime's start, as in AWS' python3.13 image.

sys.path as Lambda orders it: the function's code, then the layers (/opt/python), then the
interpreter's own site-packages, then the runtime's packages (awslambdaric, boto3), so that a function
or layer that ships its own boto3 wins over the runtime's. The handler comes from _HANDLER (the
image's entry point, or the emulator's environment) or AWS_LAMBDA_FUNCTION_HANDLER (what `sam local`
sets). awslambdaric 4.x: __main__.main(argv) with the handler as argv[1] (bootstrap.run's signature
changed in 4.0).
"""

import os
import sys


def _order_sys_path() -> None:
    task = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    runtime = os.environ.get("LAMBDA_RUNTIME_DIR", "/var/runtime")
    front = [task, "/opt/python/lib/python3.13/site-packages", "/opt/python"]
    rest = [p for p in sys.path if p not in front and p != runtime]
    sys.path[:] = [*front, *rest, runtime]


def main() -> None:
    handler = (
        os.environ.get("_HANDLER")
        or os.environ.get("AWS_LAMBDA_FUNCTION_HANDLER")
        or (sys.argv[1] if len(sys.argv) > 1 else "")
    )
    if not handler:
        print("bootstrap: no handler (_HANDLER is not set)", file=sys.stderr)
        sys.exit(1)
    os.environ["_HANDLER"] = handler
    _order_sys_path()
    from awslambdaric import __main__ as ric  # after sys.path is set

    ric.main([sys.argv[0], handler])


if __name__ == "__main__":
    main()
