#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c env=dev|prod` (default dev). The app itself is infra.app_builder."""

from infra.app_builder import build_app, cli_env


def main() -> None:
    build_app(cli_env()).synth()


if __name__ == "__main__":
    main()
