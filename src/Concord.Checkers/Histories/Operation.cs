using System.Globalization;
using System.Text;

namespace Concord.Checkers.Histories;

/// <summary>How an invoked operation ended.</summary>
public enum OperationOutcome
{
    /// <summary>Acknowledged: it took effect between its invoke and its completion.</summary>
    Ok,

    /// <summary>Definitely did not take effect; checkers drop it.</summary>
    Fail,

    /// <summary>Indeterminate: it may take effect at any time after its invoke, or never.</summary>
    Info,

    /// <summary>No completion was recorded; indeterminate exactly like <see cref="Info"/>.</summary>
    Pending,
}

/// <summary>
/// An invoke paired with its completion. <see cref="Input"/> is the invoke's value (what the
/// client asked for), <see cref="Output"/> the completion's value (what it was told; only
/// meaningful when <see cref="Outcome"/> is <see cref="OperationOutcome.Ok"/>).
/// <see cref="Id"/> is the operation's index in <see cref="History.Operations"/>.
/// </summary>
public sealed record Operation(
    int Id,
    int Process,
    string Function,
    string? Key,
    OperationValue Input,
    OperationValue Output,
    OperationOutcome Outcome,
    long InvokeTime,
    long? CompleteTime,
    int? InvokeLine,
    int? CompleteLine)
{
    /// <summary>True when the operation may or may not have taken effect.</summary>
    public bool IsIndeterminate => Outcome is OperationOutcome.Info or OperationOutcome.Pending;

    public bool IsAcknowledged => Outcome == OperationOutcome.Ok;

    /// <summary>For example <c>#12 p3 cas [1 4] ok</c>, <c>#5 p0 read → 3</c>, <c>#9 p1 write 2 info</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append('#').Append(Id.ToString(CultureInfo.InvariantCulture))
            .Append(" p").Append(Process.ToString(CultureInfo.InvariantCulture))
            .Append(' ').Append(Function);
        if (Key is not null)
        {
            text.Append(" key=").Append(OperationValue.Of(Key));
        }

        if (!Input.IsNil)
        {
            text.Append(' ').Append(Input);
        }

        if (Outcome == OperationOutcome.Ok && !Output.Equals(Input))
        {
            text.Append(" → ").Append(Output);
        }
        else
        {
            text.Append(' ').Append(Outcome switch
            {
                OperationOutcome.Ok => "ok",
                OperationOutcome.Fail => "fail",
                OperationOutcome.Info => "info",
                _ => "pending",
            });
        }

        return text.ToString();
    }
}
