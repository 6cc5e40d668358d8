using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>What travels between the workflow's simulated nodes. Immutable: the simulator shares messages by reference.</summary>
internal abstract record WorkflowMessage;

/// <summary>A customer asks Orders to place an order; Orders starts its saga (POST /orders → 202).</summary>
internal sealed record PlaceOrderRequest(long RequestId, OrderSagaData Order) : WorkflowMessage;

/// <summary>Orders committed the saga's start.</summary>
internal sealed record OrderAccepted(long RequestId) : WorkflowMessage;

/// <summary>Orders could not commit the saga's start (its COMMIT failed).</summary>
internal sealed record OrderRejected(long RequestId) : WorkflowMessage;

/// <summary>
/// An event on the bus between services: a saga command (body <see cref="OrderCommand"/>) or a
/// service's answer to one (body <see cref="Concord.Messaging.Sagas.StepReplied"/>), in the real envelope.
/// </summary>
/// <param name="PublicationId">
/// The observer's label for one publication (<see cref="WorkflowTruth"/>), so that lost and ghost
/// events are counted from ground truth. Nodes pass it back to the observer and never branch on it.
/// </param>
internal sealed record BusDelivery(Message Message, int PublicationId) : WorkflowMessage
{
    public string MessageId => Message.Envelope.Id;
}

/// <summary>Outbox mode: the consumer committed (or had already committed) the message; the producer may drop its outbox row.</summary>
internal sealed record BusAck(string MessageId) : WorkflowMessage;
