using System.Globalization;
using Concord.Core;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>One SKU of the catalogue and the units Inventory starts with.</summary>
internal sealed record SkuSpec(string Sku, int Stock, bool Hot, long UnitPriceMinor);

/// <summary>
/// What every node of one run shares: the mode under test, the services' placement, the saga
/// definition, the catalogue, the observer and the workload's on/off switch. Nothing in it is a
/// node's state; the nodes only read it (and report to <see cref="Truth"/>).
/// </summary>
internal sealed class WorkflowWorld
{
    public const string ReplyType = "order-saga.step-replied";

    readonly MessageCodec _codec = OrderSagaMessages.Register(new MessageCodec());

    public WorkflowWorld(WorkflowMode mode, WorkflowSettings settings, ServiceDirectory services, PlatformWorkload workload, WorkflowTruth truth)
    {
        Mode = mode;
        Settings = settings;
        Services = services;
        Workload = workload;
        Truth = truth;
        Saga = OrderSaga.Create(settings.SagaTimings);
        Skus = [.. Enumerable.Range(0, workload.Skus).Select(i => new SkuSpec(
            "sku-" + i.ToString("D3", CultureInfo.InvariantCulture),
            i < workload.HotSkus ? workload.HotStock : workload.Stock,
            i < workload.HotSkus,
            1_000 + (i * 10)))];
    }

    public WorkflowMode Mode { get; }

    public WorkflowSettings Settings { get; }

    public ServiceDirectory Services { get; }

    public PlatformWorkload Workload { get; }

    public WorkflowTruth Truth { get; }

    public SagaDefinition<OrderSagaData, OrderCommand> Saga { get; }

    public IReadOnlyList<SkuSpec> Skus { get; }

    /// <summary>Customers start orders while this holds; the run turns it off when the workload's duration is over.</summary>
    public bool CustomersActive { get; set; } = true;

    /// <summary>The service that executes <paramref name="command"/>.</summary>
    public NodeId ServiceFor(OrderCommand command) => command switch
    {
        PlaceOrder or ConfirmOrder or CancelOrder => Services.Orders,
        ReserveStock or ReleaseStock or CommitStock => Services.Inventory,
        AuthorizePayment or CapturePayment or VoidAuthorization or RefundPayment => Services.Payments,
        _ => throw new InvariantViolationException("no service for " + command.GetType().Name),
    };

    /// <summary>The registered message type of a saga command, e.g. <c>order-saga.reserve-stock</c>.</summary>
    public string TypeOf(OrderCommand command) => _codec.NameOf(command.GetType()).Type;
}
