using System.Globalization;

namespace Concord.Cli.Bench;

/// <summary>
/// CPU time of this process (the hosts and the bench's clients) and of a PostgreSQL server (the
/// postmaster and every backend), read around a round that runs one variant alone, so a bench can
/// say which side a cost lands on. Server CPU comes from Linux's <c>/proc</c>; elsewhere it is null.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>The kernel's USER_HZ, the unit of /proc/*/stat times: 100 on every mainstream Linux build.</summary>
    const double TicksPerSecond = 100;

    public readonly record struct Sample(TimeSpan App, TimeSpan? Server);

    public static Sample Read(int? postmasterPid) =>
        new(Environment.CpuUsage.TotalTime, postmasterPid is { } pid ? ServerCpu(pid) : null);

    /// <summary>
    /// The postmaster's own time, its reaped children's (backends that exited), and its live
    /// children's. Only processes that run on their own clock count, so a backend that exits between
    /// two samples is counted once: alive at the first, reaped into the postmaster by the second.
    /// </summary>
    static TimeSpan? ServerCpu(int postmasterPid)
    {
        if (!OperatingSystem.IsLinux() || Stat(postmasterPid) is not { } root)
        {
            return null;
        }
        var ticks = root.OwnTicks + root.ReapedChildrenTicks;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) &&
                Stat(pid) is { } child && child.ParentPid == postmasterPid)
            {
                ticks += child.OwnTicks;
            }
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    readonly record struct ProcStat(int ParentPid, long OwnTicks, long ReapedChildrenTicks);

    static ProcStat? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // exited between the listing and the read
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields count from the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcStat((int)Field(4), Field(14) + Field(15), Field(16) + Field(17));
    }
}
