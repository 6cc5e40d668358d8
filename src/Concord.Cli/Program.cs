using Concord.Cli;

return await ConcordCli.RunAsync(args, Console.Out, Console.Error);
