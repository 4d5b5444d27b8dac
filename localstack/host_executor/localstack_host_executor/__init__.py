"""LocalStack plugin: run Lambda functions as host processes instead of Docker containers."""
