using BenchmarkDotNet.Running;

// `scripts/bench.sh micro [BenchmarkDotNet arguments]`, e.g. --filter '*Decode*' --job short; without a filter, all of them.
var arguments = args.Contains("--filter") ? args : [.. args, "--filter", "*"];
BenchmarkSwitcher.FromAssembly(typeof(SqueezeNext.Benchmarks.Photos).Assembly).Run(arguments);
