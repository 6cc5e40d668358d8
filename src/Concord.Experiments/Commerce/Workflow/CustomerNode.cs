using System.Collections.Immutable;
using System.Globalization;
using Concord.Core;
using Concord.Messaging.Sagas.Orders;
using Concord.Simulation.History;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>A customer's order request as the history records it.</summary>
internal sealed record OrderRequestRecord(Guid OrderId, string Sku, bool DeclinedAccount);

/// <summary>
/// A closed-loop customer: waits up to the think time, then, with the scenario's order share,
/// places an order (one line of one SKU, hot SKUs at the hot share) and waits for Orders to accept
/// it or for the request timeout. The other steps of the customer's mix (browse, like) belong to
/// other boundaries and take no time here. The history records each request in true simulated
/// time: its latency is the Orders write latency.
/// </summary>
internal sealed class CustomerNode(WorkflowWorld world, HistoryRecorder<OrderRequestRecord, bool> history) : INode<WorkflowMessage>
{
    const long StepTag = 0;

    int _process = -1;
    long _nextRequestId;
    (long RequestId, OperationHandle Handle)? _waiting;

    public void Start(NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _process = history.NewProcess();
        ScheduleStep(context);
    }

    /// <summary>A customer that restarts has forgotten what it was waiting for: that request stays indeterminate, and it goes on as a new process.</summary>
    public void OnRestart(DurableState durable, NodeContext<WorkflowMessage> context) => Start(context);

    public void OnMessage(NodeId from, WorkflowMessage message, NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        (long requestId, CompletionType completion) = message switch
        {
            OrderAccepted accepted => (accepted.RequestId, CompletionType.Ok),
            OrderRejected rejected => (rejected.RequestId, CompletionType.Fail),
            _ => throw new InvariantViolationException("a customer got " + message.GetType().Name),
        };
        if (_waiting is { } waiting && waiting.RequestId == requestId)
        {
            history.Complete(context, waiting.Handle, completion, completion == CompletionType.Ok);
            _waiting = null;
            ScheduleStep(context);
        }
    }

    public void OnTimer(TimerId timer, long tag, NodeContext<WorkflowMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag != StepTag)
        {
            if (_waiting is { } waiting && waiting.RequestId == tag)
            {
                // Timed out: the order may or may not have been placed.
                history.Complete(context, waiting.Handle, CompletionType.Info, false);
                _waiting = null;
                _process = history.NewProcess();
                ScheduleStep(context);
            }

            return;
        }

        if (!world.CustomersActive)
        {
            return;
        }

        if (!context.Random.NextBool(world.Workload.OrderShare))
        {
            ScheduleStep(context);
            return;
        }

        PlaceOrder(context);
    }

    void PlaceOrder(NodeContext<WorkflowMessage> context)
    {
        PlatformWorkload workload = world.Workload;
        IReadOnlyList<SkuSpec> skus = world.Skus;
        int hot = skus.Count(s => s.Hot);
        bool orderHot = hot > 0 && (hot == skus.Count || context.Random.NextBool(workload.HotOrderShare));
        SkuSpec sku = orderHot ? skus[context.Random.NextInt(hot)] : skus[context.Random.NextInt(hot, skus.Count)];
        bool declined = context.Random.NextBool(world.Settings.DeclinedPaymentShare);
        Guid orderId = NewGuid(context);
        string customer = "customer-" + context.Self.Value.ToString(CultureInfo.InvariantCulture);
        var order = new OrderSagaData(
            orderId,
            new Guid((int)context.Self.Value, 0, 0, new byte[8]),
            "EUR",
            (declined ? ServiceNode.DeclinedAccountPrefix : "") + customer,
            ImmutableArray.Create(new OrderLine(sku.Sku, 1, sku.UnitPriceMinor)));

        long requestId = ++_nextRequestId;
        OperationHandle handle = history.Invoke(context, _process, new OrderRequestRecord(orderId, sku.Sku, declined));
        _waiting = (requestId, handle);
        context.Send(world.Services.Orders, new PlaceOrderRequest(requestId, order));
        context.SetTimer(workload.RequestTimeoutMs * 1_000, requestId);
    }

    void ScheduleStep(NodeContext<WorkflowMessage> context)
    {
        if (world.Workload.OrderShare <= 0)
        {
            return; // no orders in this mix: nothing for this boundary to do
        }

        // Uniform in (0, think time]: at least 1 µs, so a zero think time cannot spin at one instant.
        long thinkUs = Math.Clamp((long)(world.Workload.ThinkTimeMs * 1_000), 1, int.MaxValue - 1);
        context.SetTimer(context.Random.NextInt(1, (int)thinkUs + 1), StepTag);
    }

    /// <summary>Order ids come from the customer's seeded stream, so a seed replays the same orders.</summary>
    static Guid NewGuid(NodeContext<WorkflowMessage> context)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes[..8], context.Random.NextUInt64());
        BitConverter.TryWriteBytes(bytes[8..], context.Random.NextUInt64());
        return new Guid(bytes);
    }
}
