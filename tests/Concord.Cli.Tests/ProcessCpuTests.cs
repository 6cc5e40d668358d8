using Concord.Cli.Bench;
using Concord.Postgres.Local;
using Npgsql;

namespace Concord.Cli.Tests;

public sealed class ProcessCpuTests
{
    [Fact]
    public async Task Server_cpu_counts_a_backend_that_has_exited_by_the_second_reading()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Server CPU is read from Linux's /proc.");
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(), ct);
        var postmaster = cluster.Primary.PostmasterPid ?? throw new InvalidOperationException("The cluster's postmaster is not running.");

        var before = ProcessCpu.Read(postmaster);
        // A backend of its own (no pool), busy for a few hundred ms, then gone: its CPU is only
        // still visible through the postmaster's reaped-children time.
        var connectionString = new NpgsqlConnectionStringBuilder(cluster.Primary.ConnectionString()) { Pooling = false }.ConnectionString;
        int backend;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            backend = connection.ProcessID;
            await using var busy = new NpgsqlCommand("SELECT sum(i) FROM generate_series(1, 5000000) i", connection);
            await busy.ExecuteScalarAsync(ct);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (File.Exists($"/proc/{backend}/stat") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }
        Assert.False(File.Exists($"/proc/{backend}/stat"), "the backend should have exited and been reaped");
        var after = ProcessCpu.Read(postmaster);

        Assert.NotNull(before.Server);
        Assert.True(after.Server - before.Server >= TimeSpan.FromMilliseconds(100),
            $"summing 5 million integers took {(after.Server - before.Server)!.Value.TotalMilliseconds} ms of server CPU");
        Assert.True(after.App >= before.App);
    }
}
