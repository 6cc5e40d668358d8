using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;
using CsCheck;

namespace Concord.Checkers.Tests;

/// <summary>
/// Histories produced by a real sequential cas register under random concurrent schedules are
/// linearizable by construction (each operation takes effect at one instant inside its interval),
/// including operations that crash before or after taking effect. Corrupting one acknowledged
/// read to a value nobody wrote must always be caught.
/// </summary>
public class LinearizabilityPropertyTests
{
    private const long NeverWritten = 1_000;

    private enum Phase
    {
        Idle,
        Invoked,
        Applied,
    }

    /// <summary>A schedule: how many clients, and a list of choices that drive them (shrinks well).</summary>
    private static readonly Gen<(int Processes, int[] Choices)> Schedules =
        Gen.Select(Gen.Int[1, 5], Gen.Int[0, int.MaxValue].Array[1, 90]);

    [Fact]
    public void Histories_of_a_real_register_are_linearizable() =>
        Schedules.Sample(schedule =>
        {
            var history = Build(Run(schedule.Processes, schedule.Choices));
            var result = LinearizabilityChecker.Check(history, Models.CasRegister);
            return result.Verdict == LinearizabilityVerdict.Linearizable;
        }, iter: 1000);

    [Fact]
    public void Corrupting_one_read_to_a_never_written_value_is_never_linearizable() =>
        Schedules
            .Select(schedule => Run(schedule.Processes, schedule.Choices))
            .Where(events => events.Any(IsOkRead))
            .Select(Gen.Int[0, int.MaxValue], (events, pick) => (events, pick))
            .Sample(sample =>
            {
                var okReads = sample.events.Select((e, i) => (e, i)).Where(x => IsOkRead(x.e)).ToList();
                var target = okReads[sample.pick % okReads.Count].i;
                var corrupted = sample.events.ToList();
                corrupted[target] = corrupted[target] with { Value = OperationValue.Of(NeverWritten) };
                var result = LinearizabilityChecker.Check(Build(corrupted), Models.CasRegister);
                // The report explains the search's deepest dead end, which need not be the corrupted
                // read itself (another operation may be blocked first), but must be self-consistent.
                return result.Verdict == LinearizabilityVerdict.NotLinearizable
                    && result.Violation!.Stuck.Any(s => s.Operation == result.Violation.Blocked)
                    && result.Violation.Window.Contains(result.Violation.Blocked);
            }, iter: 1000);

    private static bool IsOkRead(HistoryEvent e) => e.Type == EventType.Ok && e.Function == "read";

    private static History Build(IEnumerable<HistoryEvent> events)
    {
        var builder = new HistoryBuilder();
        foreach (var e in events)
        {
            builder.Add(e);
        }

        return builder.Build();
    }

    /// <summary>
    /// Interprets the choices: each picks a client and what it does next. An idle client invokes
    /// a read, write or cas on small values; an invoked one either applies its operation to the
    /// register (its linearization point) or crashes first (info, never applied); an applied one
    /// either completes or crashes (info, but applied). Clients still busy at the end stay pending.
    /// </summary>
    private static List<HistoryEvent> Run(int processes, int[] choices)
    {
        OperationValue register = OperationValue.Nil;
        var phase = new Phase[processes];
        var invoked = new HistoryEvent?[processes];
        var result = new OperationValue[processes];
        var applied = new bool[processes];
        var events = new List<HistoryEvent>();
        var time = 0L;
        foreach (var choice in choices)
        {
            var process = choice % processes;
            var roll = choice / processes;
            switch (phase[process])
            {
                case Phase.Idle:
                    var value = OperationValue.Of(roll / 3 % 5);
                    var invoke = (roll % 3) switch
                    {
                        0 => new HistoryEvent(process, EventType.Invoke, "read", null, OperationValue.Nil, time++),
                        1 => new HistoryEvent(process, EventType.Invoke, "write", null, value, time++),
                        _ => new HistoryEvent(process, EventType.Invoke, "cas", null,
                            OperationValue.ListOf(OperationValue.Of(roll / 15 % 5), value), time++),
                    };
                    events.Add(invoke);
                    invoked[process] = invoke;
                    phase[process] = Phase.Invoked;
                    break;
                case Phase.Invoked when roll % 8 == 0:
                    events.Add(Completion(invoked[process]!, EventType.Info, OperationValue.Nil, time++));
                    phase[process] = Phase.Idle;
                    break;
                case Phase.Invoked:
                    var operation = invoked[process]!;
                    switch (operation.Function)
                    {
                        case "read":
                            result[process] = register;
                            applied[process] = true;
                            break;
                        case "write":
                            register = operation.Value;
                            result[process] = operation.Value;
                            applied[process] = true;
                            break;
                        default:
                            applied[process] = register.Equals(operation.Value.Items[0]);
                            register = applied[process] ? operation.Value.Items[1] : register;
                            result[process] = operation.Value;
                            break;
                    }

                    phase[process] = Phase.Applied;
                    break;
                default:
                    var type = roll % 8 == 0 ? EventType.Info : applied[process] ? EventType.Ok : EventType.Fail;
                    events.Add(Completion(invoked[process]!, type, result[process], time++));
                    phase[process] = Phase.Idle;
                    break;
            }
        }

        return events;
    }

    private static HistoryEvent Completion(HistoryEvent invoke, EventType type, OperationValue value, long time) =>
        invoke with { Type = type, Value = value, Time = time };
}
