using BenchmarkDotNet.Running;

// `scripts/bench.sh micro [BenchmarkDotNet arguments]`, e.g. --filter '*Decode*'; with no filter, all of them.
BenchmarkSwitcher.FromAssembly(typeof(SqueezeNext.Benchmarks.Photos).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args);
