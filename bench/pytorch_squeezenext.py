#!/usr/bin/python3
"""SqueezeNext in PyTorch, written from shared/SQUEEZENEXT.md, as the peer for `scripts/bench.sh`.

The same three TF-layout configurations the suite measures (v_1_0_SqNxt_23, v_1_0_SqNxt_23_v5, v_2_0_SqNxt_23):
bias-free convolutions each followed by BatchNorm (eps 1e-5, momentum 0.001) and ReLU, separate ReLUs on the
expansion and the projection, 3x1/1x3 orientation alternating across the whole network, a 1x1 projection in
parallel whenever the width or the stride changes, a bias-free classifier. Xavier-uniform initialisation from the
given seed, as the C# engine's default. Checks its parameter count against SQUEEZENEXT.md before measuring.

Run with Debian's interpreter, which is the one that sees python3-torch:
  /usr/bin/python3 bench/pytorch_squeezenext.py --config v_1_0_SqNxt_23 --mode train --batch 32 --threads 2
Prints one JSON object, the same fields `sqnxt bench --json` prints.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn

CONFIGURATIONS = {
    # name: (blocks per stage, stage widths, stem kernel, expected trainable parameters at 1000 classes)
    "v_1_0_SqNxt_23": ((6, 6, 8, 1), (32, 64, 128, 256), 7, 717_280),
    "v_1_0_SqNxt_23_v5": ((2, 4, 14, 1), (32, 64, 128, 256), 5, 909_024),
    "v_2_0_SqNxt_23": ((6, 6, 8, 1), (64, 128, 256, 512), 7, 2_357_504),
}


def conv_bn(cin, cout, kernel, stride=1, padding=0, relu=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride, padding, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.001)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, cin, width, stride, vertical_first):
        super().__init__()
        tall, wide = ((3, 1), (1, 0)), ((1, 3), (0, 1))
        first, second = (tall, wide) if vertical_first else (wide, tall)
        self.branch = nn.Sequential(
            conv_bn(cin, width // 2, 1, stride),
            conv_bn(width // 2, width // 4, 1),
            conv_bn(width // 4, width // 2, first[0], padding=first[1]),
            conv_bn(width // 2, width // 2, second[0], padding=second[1]),
            conv_bn(width // 2, width, 1),
        )
        self.shortcut = conv_bn(cin, width, 1, stride) if cin != width or stride != 1 else None

    def forward(self, x):
        residual = x if self.shortcut is None else self.shortcut(x)
        return torch.relu(self.branch(x) + residual)


class SqueezeNext(nn.Module):
    def __init__(self, blocks, widths, stem_kernel, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 64, stem_kernel, 2), nn.MaxPool2d(3, 2))
        layers, cin, index = [], 64, 0
        for stage, (count, width) in enumerate(zip(blocks, widths)):
            for i in range(count):
                index += 1
                layers.append(Block(cin, width, 2 if i == 0 and stage > 0 else 1, vertical_first=index % 2 == 1))
                cin = width
        self.blocks = nn.Sequential(*layers)
        self.head = conv_bn(cin, 128, 1)
        self.classifier = nn.Linear(128, classes, bias=False)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="v_1_0_SqNxt_23", choices=sorted(CONFIGURATIONS))
    parser.add_argument("--mode", default="infer", choices=["train", "infer", "matmul"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input-size", type=int, default=227)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-format", default="contiguous", choices=["contiguous", "channels_last"],
                        help="channels_last converts the model and the input, PyTorch's documented CPU speed-up")
    parser.add_argument("--fuse-batchnorm", action="store_true",
                        help="infer mode: fold each BatchNorm into its convolution (torch.fx.experimental.optimization.fuse, "
                             "PyTorch's documented inference optimisation), as our inference does")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.mode == "matmul":
        return matmul(args)
    blocks, widths, stem, expected = CONFIGURATIONS[args.config]
    torch.manual_seed(args.seed)
    network = SqueezeNext(blocks, widths, stem)
    parameters = sum(p.numel() for p in network.parameters() if p.requires_grad)
    if parameters != expected:
        raise SystemExit(f"{args.config}: {parameters} trainable parameters, SQUEEZENEXT.md says {expected}")
    generator = torch.Generator().manual_seed(args.seed)
    images = torch.randn(args.batch, 3, args.input_size, args.input_size, generator=generator)
    labels = torch.randint(1000, (args.batch,), generator=generator)
    if args.memory_format == "channels_last":
        network = network.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    network.train(args.mode == "train")
    if args.fuse_batchnorm and args.mode == "infer":
        from torch.fx.experimental.optimization import fuse
        network = fuse(network)

    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        if args.mode == "train":
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(network(images), labels)
            loss.backward()
            optimizer.step()
            loss.item()
        else:
            with torch.no_grad():
                network(images).sum().item()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)

    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "config": args.config,
        "mode": args.mode,
        "batch": args.batch,
        "input_size": args.input_size,
        "threads": torch.get_num_threads(),
        "memory_format": args.memory_format,
        "batchnorm": "training" if args.mode == "train" else "fused" if args.fuse_batchnorm else "separate",
        "steps": args.steps,
        "images_per_second": args.batch * args.steps / sum(times),
        "median_seconds_per_step": statistics.median(times),
        "peak_working_set_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trainable_parameters": parameters,
    }))


def matmul(args, size=2048):
    """float32 matrix multiplication at a size that reaches the BLAS peak, in GFLOP/s (2·n³ per product)."""
    generator = torch.Generator().manual_seed(args.seed)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    times = []
    with torch.no_grad():
        for step in range(args.warmup + args.steps):
            start = time.perf_counter()
            torch.mm(a, b)
            if step >= args.warmup:
                times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "mode": "matmul", "size": size, "threads": torch.get_num_threads(),
                      "gflops_per_second": 2 * size ** 3 / median / 1e9, "median_seconds": median}))


if __name__ == "__main__":
    main()
