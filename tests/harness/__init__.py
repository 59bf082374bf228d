"""Real-process test harness: a tiny OCI image, docker-registry and containerd, all on 127.0.0.1.

Every helper is a context manager that owns its processes and temporary files and stops/removes
them when the block ends, also when the block raises.
"""
