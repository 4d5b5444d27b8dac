"""The plux plugin that makes ``LAMBDA_RUNTIME_EXECUTOR=host`` select the host-process executor."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host"

    def load(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from localstack_host_executor.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
