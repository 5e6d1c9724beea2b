"""One Docker engine: connecting, reading, changing, exec. The only code that
imports `docker` (the SDK) or paramiko."""
