using SqueezeNext.Cli;

return SqnxtCommandLine.Build().Parse(args).Invoke();
