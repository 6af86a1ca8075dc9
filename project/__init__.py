"""Settings (from the environment, or one AWS Secrets Manager secret), URL roots (the
platform's public site and each operator's site), WSGI, and the project-level templates."""
