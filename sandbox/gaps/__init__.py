"""moto gap fills, one module per AWS service (sandbox/gaps/<service>.py).

Each module holds what the sandbox answers for its service where moto's own answer is missing or unlike
AWS's, and a module-level `OPERATIONS` table (operation -> why moto's is not enough, and the AWS document the
fill follows). The account emulation (deploy, alarms, routing, Step Functions, checkpoints, clock, IAM) lives
one level up, in sandbox/, and installs these fills (sandbox.aws.install_gap_fills).
"""
