using System.CommandLine;

namespace Concord.Cli.Commands;

internal static class BenchCommands
{
    public static Command Build(TextWriter output)
    {
        var bench = new Command("bench", "Quick in-process benchmarks that print numbers measured in the same run");
        return bench;
    }
}
