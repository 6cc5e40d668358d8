namespace Concord.Simulation.Tests;

/// <summary>No timed assertions here: speed is measured by <c>concord bench</c>, not by tests.</summary>
public class PerformanceTests
{
    [Fact]
    public void The_benchmark_runs_and_reports_a_rate() =>
        Assert.True(SimulatorBenchmark.MeasureMessagesPerSecond(20_000, TimeProvider.System) > 0);

    [Fact]
    public void The_hot_path_does_not_allocate_per_message()
    {
        SimulatorBenchmark.Run(50_000, seed: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long delivered = SimulatorBenchmark.Run(200_000, seed: 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Setup (topology, link tables, heap) costs a fixed amount; a single boxed message or
        // closure per delivery would add at least 24 bytes each, 4.8 MB here.
        Assert.True(allocated < 1_000_000, $"{allocated} bytes for {delivered} messages");
    }
}
