#!/usr/bin/env python3
"""Generate a large desired state for benchmarks: N models, tenants and one pool of M nodes.

Usage: generate-desired.py OUT_DIR --models 10000 --nodes 100 [--replicas 3] [--seed 1]

Every model has two variants of three files; variants share their config file, so the
planner's dedup is exercised. 20 tenants split the models between them; one pool of M nodes
serves all tenants with `replicas` copies per variant (spread placement).
"""
import argparse
import os
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--models", type=int, default=10000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--placement", default="spread")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    def digest():
        return "%064x" % rng.getrandbits(256)

    with open(os.path.join(args.out, "models.yaml"), "w") as out:
        out.write("models:\n")
        for index in range(args.models):
            config = digest()
            out.write(f"  - name: model-{index:05d}\n    version: \"1.0\"\n")
            out.write(f"    sources: [hf://org/model-{index:05d}@main, https://mirror.example/model-{index:05d}/]\n")
            out.write("    default_variant: fp16\n    variants:\n")
            for variant, scale in (("fp16", 2), ("fp8", 1)):
                out.write(f"      {variant}:\n        files:\n")
                out.write(f"          - {{ path: config.json, size: 1532, sha256: {config} }}\n")
                for shard in range(2):
                    size = rng.randint(100, 400) * 1024 * scale
                    out.write(f"          - {{ path: model-{shard:05d}.safetensors, size: {size}, sha256: {digest()} }}\n")

    with open(os.path.join(args.out, "tenants.yaml"), "w") as out:
        out.write("tenants:\n")
        per = max(1, args.models // args.tenants)
        for tenant in range(args.tenants):
            out.write(f"  - name: team-{tenant:02d}\n    models:\n")
            for index in range(tenant * per, min(args.models, (tenant + 1) * per)):
                variant = "fp8" if index % 3 == 0 else "fp16"
                out.write(f"      - model-{index:05d}@1.0:{variant}\n")

    with open(os.path.join(args.out, "pools.yaml"), "w") as out:
        serves = ", ".join(f"team-{t:02d}" for t in range(args.tenants))
        out.write(f"pools:\n  - name: big\n    serves: [{serves}]\n    replicas: {args.replicas}\n")
        out.write(f"    placement: {args.placement}\n    nodes:\n")
        for node in range(args.nodes):
            out.write(f"      - {{ name: node-{node:03d}, disk: 200TiB }}\n")


if __name__ == "__main__":
    main()
