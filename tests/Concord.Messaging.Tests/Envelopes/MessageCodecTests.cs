using System.Collections.Immutable;
using System.Text;
using Concord.Core.Clocks;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas.Orders;
using CsCheck;

namespace Concord.Messaging.Tests.Envelopes;

public sealed class MessageCodecTests
{
    static readonly MessageCodec Codec = OrderSagaMessages.Register(new MessageCodec());
    static readonly Guid OrderId = Guid.Parse("0b5e7c1a-0000-4000-8000-000000000001");

    static Envelope NewEnvelope(string type = "order-saga.confirm-order", int version = 1) => new()
    {
        Id = "msg-1",
        Type = type,
        SchemaVersion = version,
        PartitionKey = "order-0b5e7c1a",
        CorrelationId = "order-0b5e7c1a",
        CausationId = "msg-0",
        Timestamp = new HlcTimestamp(1_732_616_460_123, 5),
        Headers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("trace-id", "abc"), KeyValuePair.Create("attempt", "2")]),
    };

    static byte[] Confirm() => Codec.Encode(new Message(NewEnvelope(), new ConfirmOrder(OrderId, "order-0b5e7c1a:confirm-order:do")));

    static MessageFormatException DecodeFails(string json) =>
        Assert.Throws<MessageFormatException>(() => Codec.Decode(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void The_format_is_stable_byte_for_byte()
    {
        const string expected =
            """{"format":1,"id":"msg-1","type":"order-saga.confirm-order","schemaVersion":1,"partitionKey":"order-0b5e7c1a","correlationId":"order-0b5e7c1a","causationId":"msg-0","timestamp":{"physicalMs":1732616460123,"logical":5},"headers":{"attempt":"2","trace-id":"abc"},"body":{"orderId":"0b5e7c1a-0000-4000-8000-000000000001","idempotencyKey":"order-0b5e7c1a:confirm-order:do"}}""";
        Assert.Equal(expected, Encoding.UTF8.GetString(Confirm()));
    }

    [Fact]
    public void Decoding_returns_the_envelope_and_the_typed_body()
    {
        Message message = Codec.Decode(Confirm());
        Assert.Equal(NewEnvelope(), message.Envelope);
        Assert.Equal(new ConfirmOrder(OrderId, "order-0b5e7c1a:confirm-order:do"), message.Body);
    }

    [Fact]
    public void Every_order_saga_command_round_trips()
    {
        var order = new OrderSagaData(OrderId, OrderId, "EUR", "customer:1", [new OrderLine("SKU-A", 2, 100)]);
        var (state, effects) = OrderSaga.Start(order, 0);
        OrderCommand[] commands =
        [
            new PlaceOrder(OrderId, "k", OrderId, "EUR", order.Lines), new ReserveStock(OrderId, "k", order.Lines, 1000),
            new AuthorizePayment(OrderId, "k", "a", "EUR", 200), new CapturePayment(OrderId, "k", "a", "EUR", 200),
            new ConfirmOrder(OrderId, "k"), new CommitStock(OrderId, "k", order.Lines), new CancelOrder(OrderId, "k"),
            new ReleaseStock(OrderId, "k", order.Lines), new VoidAuthorization(OrderId, "k", "a", "EUR", 200), new RefundPayment(OrderId, "k", "a", "EUR", 200),
        ];
        foreach (OrderCommand command in commands)
        {
            var (type, version) = Codec.NameOf(command.GetType());
            var envelope = NewEnvelope(type, version);
            object body = Codec.Decode(Codec.Encode(new Message(envelope, command))).Body;
            Assert.Equal(command.ToString(), body.ToString()); // ImmutableArray compares by reference; the text compares the lines
        }

        Assert.NotEmpty(effects);
        Assert.NotNull(state);
    }

    [Fact]
    public void Unknown_types_and_versions_are_named_with_what_is_known()
    {
        string json = Encoding.UTF8.GetString(Confirm());
        var unknownType = DecodeFails(json.Replace("order-saga.confirm-order", "order-saga.teleport", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.UnknownType, unknownType.Error);
        Assert.StartsWith("type: 'order-saga.teleport' is not a registered message type (known: order-saga.authorize-payment,", unknownType.Message, StringComparison.Ordinal);

        var unknownVersion = DecodeFails(json.Replace("\"schemaVersion\":1", "\"schemaVersion\":7", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.UnknownSchemaVersion, unknownVersion.Error);
        Assert.Equal("schemaVersion: 'order-saga.confirm-order' has no version 7 (known: 1).", unknownVersion.Message);

        var format = DecodeFails(json.Replace("\"format\":1", "\"format\":2", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.UnsupportedFormat, format.Error);
        Assert.Equal("format: 2 is not supported (this build reads format 1).", format.Message);
    }

    [Fact]
    public void Malformed_documents_say_what_is_wrong()
    {
        Assert.Equal(MessageFormatError.Malformed, DecodeFails("not json").Error);
        Assert.Equal(MessageFormatError.Malformed, DecodeFails("null").Error);
        Assert.Contains("format: required", DecodeFails("{}").Message, StringComparison.Ordinal);

        string json = Encoding.UTF8.GetString(Confirm());
        var extra = DecodeFails(json.Replace("\"format\":1,", "\"format\":1,\"surprise\":true,", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.Malformed, extra.Error);
        Assert.Contains("surprise", extra.Message, StringComparison.Ordinal);

        var missing = DecodeFails(json.Replace("\"id\":\"msg-1\",", "", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.InvalidEnvelope, missing.Error);
        Assert.Contains("id: required.", missing.Message, StringComparison.Ordinal);

        var body = DecodeFails(json.Replace("\"orderId\":\"0b5e7c1a-0000-4000-8000-000000000001\"", "\"orderId\":42", StringComparison.Ordinal));
        Assert.Equal(MessageFormatError.InvalidBody, body.Error);
        Assert.Contains("body of 'order-saga.confirm-order' version 1", body.Message, StringComparison.Ordinal);

        var noBody = DecodeFails(json[..json.IndexOf(",\"body\"", StringComparison.Ordinal)] + "}");
        Assert.Contains("body: required", noBody.Message, StringComparison.Ordinal);

        var time = DecodeFails(json.Replace("\"logical\":5", "\"logical\":70000", StringComparison.Ordinal));
        Assert.Contains("timestamp:", time.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Envelope_fields_are_validated_on_both_sides()
    {
        var tooMany = NewEnvelope() with
        {
            Headers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                Enumerable.Range(0, EnvelopeLimits.HeaderCountMax + 1).Select(i => KeyValuePair.Create("h" + i, "v"))),
        };
        Assert.Contains("more than 32", Assert.Single(tooMany.Problems()), StringComparison.Ordinal);

        var tooBig = NewEnvelope() with
        {
            Headers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                Enumerable.Range(0, 10).Select(i => KeyValuePair.Create("h" + i, new string('x', 1000)))),
        };
        Assert.Contains("bytes in total, more than 8192", Assert.Single(tooBig.Problems()), StringComparison.Ordinal);

        var bad = NewEnvelope() with
        {
            Id = "",
            Type = "Order.Placed",
            SchemaVersion = 0,
            PartitionKey = new string('p', 300),
            CausationId = "a\nb",
            Headers = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("Bad Name", "v")]),
        };
        Assert.Equal(
            ["id: required.", "type: 'Order.Placed' must be lower-case words joined by '.' or '-', e.g. 'order-saga.reserve-stock'.",
             "schemaVersion: 0 is outside [1, 1000].", "partitionKey: 300 characters, more than 256.", "causationId: contains a control character.",
             "headers: name 'Bad Name' must be 1 to 64 characters of a-z, 0-9, '-', '_' or '.'."],
            bad.Problems());
        var e = Assert.Throws<MessageFormatException>(() => Codec.Encode(new Message(bad, new ConfirmOrder(OrderId, "k"))));
        Assert.Equal(MessageFormatError.InvalidEnvelope, e.Error);

        string json = Encoding.UTF8.GetString(Confirm()).Replace("\"trace-id\"", "\"Trace Id\"", StringComparison.Ordinal);
        Assert.Equal(MessageFormatError.InvalidEnvelope, DecodeFails(json).Error);
    }

    [Fact]
    public void Encoding_refuses_a_body_that_is_not_the_registered_type()
    {
        var e = Assert.Throws<MessageFormatException>(() => Codec.Encode(new Message(NewEnvelope(), new CancelOrder(OrderId, "k"))));
        Assert.Equal(MessageFormatError.TypeMismatch, e.Error);
        Assert.Equal("'order-saga.confirm-order' version 1 carries ConfirmOrder, not CancelOrder.", e.Message);
        Assert.Throws<ArgumentException>(() => OrderSagaMessages.Register(Codec));
    }

    static readonly Gen<string> Tokens = Gen.String[Gen.Char.AlphaNumeric, 1, 40];

    [Fact]
    public void Random_envelopes_round_trip_and_encode_deterministically() =>
        Gen.Select(Tokens, Tokens, Gen.Long[0, HlcTimestamp.PhysicalMsMax], Gen.UShort, Gen.Dictionary(Gen.String[Gen.Char['a', 'z'], 1, 10], Tokens)[0, 8])
            .Sample((id, key, physical, logical, headers) =>
            {
                var envelope = NewEnvelope() with
                {
                    Id = id,
                    PartitionKey = key,
                    CorrelationId = key,
                    CausationId = null,
                    Timestamp = new HlcTimestamp(physical, logical),
                    Headers = headers.ToImmutableSortedDictionary(StringComparer.Ordinal),
                };
                var message = new Message(envelope, new ConfirmOrder(OrderId, id));
                byte[] bytes = Codec.Encode(message);
                Message decoded = Codec.Decode(bytes);
                Assert.Equal(envelope, decoded.Envelope);
                Assert.Equal(message.Body, decoded.Body);
                Assert.Equal(bytes, Codec.Encode(decoded));
            }, iter: 1_000);
}
