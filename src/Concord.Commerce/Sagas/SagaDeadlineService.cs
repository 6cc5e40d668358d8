using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Concord.Commerce.Sagas;

/// <summary>
/// Fires saga timers: every poll interval (on the injected clock) it feeds <c>TimerFired</c> to the
/// sagas whose deadline passed, in rounds until none is due. The first round waits one interval, so
/// a host that starts holds no database work in its start-up. A timer is a database column, not an
/// in-memory callback, so it survives a restart and any host of the Orders database can fire it.
/// </summary>
internal sealed class SagaDeadlineService(OrderSagaRuntime runtime, TimeProvider time, ILogger<SagaDeadlineService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(runtime.Options.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    while (await runtime.FireDueTimersAsync(stoppingToken).ConfigureAwait(false) == runtime.Options.BatchSizeMax)
                    {
                        // A full batch: more may be due.
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Never let one bad round stop the host; a saga that keeps failing stays due and shows up as stuck.
                    log.LogError(e, "Firing saga deadlines failed; the next round will retry.");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
