using System.Collections.Immutable;
using System.Globalization;
using Concord.Core;

namespace Concord.Messaging.Sagas;

/// <summary>
/// The transition function. Pure: <c>(state, event, now) → (state, effects)</c>, with no clock,
/// randomness or I/O. Every input — a duplicate, a late reply, a stale timer, a reply for another
/// saga — yields a valid next state; nothing a network can do makes it throw. Only a bug does, via
/// <see cref="Invariant"/>.
/// </summary>
public sealed partial record SagaDefinition<TData, TCommand>
{
    public SagaDecision<TData, TCommand> Start(string sagaId, TData data, long nowMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(sagaId);
        if (sagaId.Length > SagaLimits.SagaIdLengthMax || sagaId.Any(char.IsControl))
        {
            throw new ArgumentException($"A saga id has at most {SagaLimits.SagaIdLengthMax} characters and no control characters.", nameof(sagaId));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(nowMs);
        Validated();
        var state = new SagaState<TData, TCommand>
        {
            SagaId = sagaId,
            Data = data,
            Status = SagaStatus.Running,
            Cursor = 0,
            Attempt = 0,
            StepStartedAtMs = nowMs,
            Outcomes = [.. Enumerable.Repeat(StepOutcome.NotStarted, Steps.Length)],
            AppliedSteps = 0,
            ArmedTimer = null,
            StartedAtMs = nowMs,
            LastEventAtMs = nowMs,
            History = [],
        };
        var run = new Run(this, state, nowMs);
        run.StartStep(0);
        return run.Finish(new SagaStarted(), "new");
    }

    public SagaDecision<TData, TCommand> Handle(SagaState<TData, TCommand> state, SagaEvent @event, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(@event);
        Invariant.Assert(state.Outcomes.Length == Steps.Length);
        // A host clock that steps backwards must not make history run backwards.
        var run = new Run(this, state, Math.Max(nowMs, state.LastEventAtMs));
        string from = Describe(state);
        switch (state.Status)
        {
            case SagaStatus.Completed:
            case SagaStatus.Compensated:
                run.Note("ignored: the saga has finished");
                break;
            case SagaStatus.Running:
            case SagaStatus.Compensating:
                run.Dispatch(@event);
                break;
            default:
                Invariant.Fail("unknown saga status " + state.Status);
                break;
        }

        return run.Finish(@event, from);
    }

    /// <summary>A one-line state label for history and diagnostics, e.g. <c>running reserve-stock (attempt 2, backing off)</c>.</summary>
    public string Describe(SagaState<TData, TCommand> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string waiting = state.ArmedTimer?.Kind == TimerKind.RetryBackoff ? "backing off" : "awaiting reply";
        return state.Status switch
        {
            SagaStatus.Running => string.Create(CultureInfo.InvariantCulture, $"running {Steps[state.Cursor].Name} (attempt {state.Attempt}, {waiting})"),
            SagaStatus.Compensating => string.Create(CultureInfo.InvariantCulture, $"compensating {Steps[state.Cursor].Name} (attempt {state.Attempt}, {waiting})"),
            SagaStatus.Completed => "completed",
            SagaStatus.Compensated => "compensated",
            _ => throw new InvariantViolationException("unknown saga status " + state.Status),
        };
    }

    bool TryFindKey(string sagaId, string key, out int step, out SagaPhase phase)
    {
        step = -1;
        phase = SagaPhase.Action;
        if (key is null || key.Length <= sagaId.Length + 1 || !key.StartsWith(sagaId, StringComparison.Ordinal) || key[sagaId.Length] != ':')
        {
            return false;
        }

        string rest = key[(sagaId.Length + 1)..];
        int colon = rest.LastIndexOf(':');
        if (colon < 0)
        {
            return false;
        }

        string name = rest[..colon];
        switch (rest[(colon + 1)..])
        {
            case "do":
                phase = SagaPhase.Action;
                break;
            case "undo":
                phase = SagaPhase.Compensation;
                break;
            default:
                return false;
        }

        for (int i = 0; i < Steps.Length; i++)
        {
            if (Steps[i].Name == name)
            {
                step = i;
                return true;
            }
        }

        return false;
    }

    /// <summary>One transition in progress: a mutable scratch copy, frozen by <see cref="Finish"/>.</summary>
    sealed class Run(SagaDefinition<TData, TCommand> definition, SagaState<TData, TCommand> state, long nowMs)
    {
        readonly ImmutableArray<SagaEffect<TCommand>>.Builder _effects = ImmutableArray.CreateBuilder<SagaEffect<TCommand>>();
        readonly StepOutcome[] _outcomes = [.. state.Outcomes];
        readonly List<string> _notes = [];
        readonly SagaState<TData, TCommand> _before = state;
        SagaState<TData, TCommand> _state = state;

        ImmutableArray<SagaStep<TData, TCommand>> Steps => definition.Steps;

        public void Note(string note) => _notes.Add(note);

        public void Dispatch(SagaEvent @event)
        {
            switch (@event)
            {
                case StepReplied reply when definition.TryFindKey(_state.SagaId, reply.IdempotencyKey, out int step, out SagaPhase phase):
                    if (phase == SagaPhase.Action)
                    {
                        OnActionReply(step, reply);
                    }
                    else
                    {
                        OnCompensationReply(step, reply);
                    }

                    break;
                case StepReplied reply:
                    Note("ignored: key '" + reply.IdempotencyKey + "' belongs to no step of this saga");
                    break;
                case TimerFired fired when fired.Timer == _state.ArmedTimer:
                    OnTimer(fired.Timer);
                    break;
                case TimerFired:
                    Note("ignored: stale timer");
                    break;
                case SagaStarted:
                    Note("ignored: already started");
                    break;
                default:
                    Note("ignored: unknown event " + @event.GetType().Name);
                    break;
            }
        }

        void OnActionReply(int step, StepReplied reply)
        {
            string name = Steps[step].Name;
            if (reply.Outcome == ReplyOutcome.Succeeded)
            {
                // Remembered whatever the state, so a superseded compensation can be skipped later.
                _state = _state with { AppliedSteps = _state.AppliedSteps | (1L << step) };
            }

            if (_state.Status == SagaStatus.Running)
            {
                if (step != _state.Cursor)
                {
                    Note(step < _state.Cursor ? $"ignored: duplicate reply for {name}, which already succeeded" : $"ignored: reply for {name}, which was never sent");
                    return;
                }

                switch (reply.Outcome)
                {
                    case ReplyOutcome.Succeeded:
                        _outcomes[step] = StepOutcome.Succeeded;
                        Note(name + " succeeded");
                        StartStep(step + 1);
                        break;
                    case ReplyOutcome.Failed when Steps[step].Kind == StepKind.Retriable:
                        AttemptFailed("refused, but a retriable step must succeed: " + reply.Reason);
                        break;
                    case ReplyOutcome.Failed:
                        _outcomes[step] = StepOutcome.Failed;
                        BeginCompensation(step - 1, name + " failed: " + (reply.Reason ?? "no reason given"));
                        break;
                    case ReplyOutcome.TransientFailure when _state.ArmedTimer?.Kind == TimerKind.RetryBackoff:
                        Note("ignored: transient failure while already waiting to retry " + name);
                        break;
                    case ReplyOutcome.TransientFailure:
                        AttemptFailed("transient failure: " + reply.Reason);
                        break;
                    default:
                        Note("ignored: unknown reply outcome " + reply.Outcome);
                        break;
                }

                return;
            }

            // Compensating: a late answer to a forward command. A step that gave up without an
            // answer (Unknown) went straight to Compensating, so its compensation is already in
            // flight or done; a late success therefore needs no new command. If the late effect
            // lands after the compensation, the service refuses it: an undo leaves a tombstone
            // (a released reservation, a voided authorization, a barred capture, a cancelled order).
            switch (_outcomes[step], reply.Outcome)
            {
                case (StepOutcome.Compensating, ReplyOutcome.Succeeded):
                    Note($"late success of {name}: its compensation is already in flight");
                    break;
                case (StepOutcome.Compensated or StepOutcome.NothingToUndo, ReplyOutcome.Succeeded):
                    Note($"late success of {name}: already compensated");
                    break;
                case (StepOutcome.Failed, ReplyOutcome.Succeeded):
                    // Impossible while services honour idempotency keys (one key, one answer).
                    Note($"anomaly: success of {name} contradicts its earlier refusal");
                    break;
                default:
                    Note($"ignored: duplicate or late reply for {name} ({_outcomes[step]}, {reply.Outcome})");
                    break;
            }
        }

        void OnCompensationReply(int step, StepReplied reply)
        {
            string name = Steps[step].Name;
            if (_state.Status != SagaStatus.Compensating || step != _state.Cursor)
            {
                Note($"ignored: duplicate or late reply for the compensation of {name}");
                return;
            }

            switch (reply.Outcome)
            {
                case ReplyOutcome.Succeeded:
                    _outcomes[step] = StepOutcome.Compensated;
                    Note(name + " compensated");
                    ContinueCompensation(step - 1);
                    break;
                case ReplyOutcome.Failed or ReplyOutcome.TransientFailure when _state.ArmedTimer?.Kind == TimerKind.RetryBackoff:
                    Note("ignored: failure while already waiting to retry the compensation of " + name);
                    break;
                default:
                    // A compensation must eventually succeed (services make undo idempotent and
                    // treat "nothing to undo" as success), so a refusal is retried like a transient error.
                    AttemptFailed(reply.Outcome + ": " + reply.Reason);
                    break;
            }
        }

        void OnTimer(SagaTimer timer)
        {
            switch (timer.Kind)
            {
                case TimerKind.ReplyTimeout:
                    AttemptFailed("no reply");
                    break;
                case TimerKind.RetryBackoff when timer.Phase == SagaPhase.Action && Steps[timer.Step] is { Kind: StepKind.Compensatable } step &&
                                                 nowMs >= _state.StepStartedAtMs + step.DeadlineMs:
                    // The host fired the timer late (paused, overloaded): the deadline wins over the retry.
                    _outcomes[timer.Step] = StepOutcome.Unknown;
                    BeginCompensation(timer.Step, string.Create(CultureInfo.InvariantCulture,
                        $"{step.Name}: deadline of {step.DeadlineMs} ms passed before attempt {_state.Attempt + 1}"));
                    break;
                case TimerKind.RetryBackoff:
                    SendAttempt(_state.Attempt + 1);
                    break;
                default:
                    Invariant.Fail("unknown timer kind " + timer.Kind);
                    break;
            }
        }

        void AttemptFailed(string reason)
        {
            int cursor = _state.Cursor;
            SagaStep<TData, TCommand> step = Steps[cursor];
            bool action = _state.Status == SagaStatus.Running;
            RetryPolicy retry = action ? step.Retry : definition.CompensationRetry;
            long backoffMs = retry.BackoffMs(_state.Attempt);
            string attempt = string.Create(CultureInfo.InvariantCulture, $"{(action ? "" : "compensation of ")}{step.Name} attempt {_state.Attempt} failed ({reason})");
            if (action && step.Kind == StepKind.Compensatable)
            {
                if (_state.Attempt >= retry.AttemptsMax)
                {
                    _outcomes[cursor] = StepOutcome.Unknown;
                    BeginCompensation(cursor, string.Create(CultureInfo.InvariantCulture, $"{attempt}; retry budget of {retry.AttemptsMax} attempts exhausted"));
                    return;
                }

                if (nowMs + backoffMs >= _state.StepStartedAtMs + step.DeadlineMs)
                {
                    _outcomes[cursor] = StepOutcome.Unknown;
                    BeginCompensation(cursor, string.Create(CultureInfo.InvariantCulture, $"{attempt}; deadline of {step.DeadlineMs} ms passed"));
                    return;
                }
            }

            Note(string.Create(CultureInfo.InvariantCulture, $"{attempt}; retrying in {backoffMs} ms"));
            Arm(new SagaTimer(_state.SagaId, action ? SagaPhase.Action : SagaPhase.Compensation, cursor, _state.Attempt, TimerKind.RetryBackoff), nowMs + backoffMs);
        }

        public void StartStep(int step)
        {
            if (step == Steps.Length)
            {
                _state = _state with { Status = SagaStatus.Completed, Cursor = Steps.Length, Attempt = 0, ArmedTimer = null };
                Note("completed");
                return;
            }

            _outcomes[step] = StepOutcome.InProgress;
            _state = _state with { Cursor = step, StepStartedAtMs = nowMs };
            SendAttempt(1);
        }

        void BeginCompensation(int from, string reason)
        {
            Note(reason);
            _state = _state with { Status = SagaStatus.Compensating, FailureReason = reason };
            ContinueCompensation(from);
        }

        void ContinueCompensation(int from)
        {
            for (int step = from; step >= 0; step--)
            {
                StepOutcome outcome = _outcomes[step];
                if (outcome is StepOutcome.Failed)
                {
                    continue;
                }

                Invariant.Assert(outcome is StepOutcome.Succeeded or StepOutcome.Unknown);
                SagaStep<TData, TCommand> definitionStep = Steps[step];
                bool superseded = definitionStep.CompensationSupersededBy is { } later &&
                    (_state.AppliedSteps & (1L << IndexOf(later))) != 0;
                if (definitionStep.Compensation is null || superseded)
                {
                    _outcomes[step] = StepOutcome.NothingToUndo;
                    continue;
                }

                _outcomes[step] = StepOutcome.Compensating;
                _state = _state with { Cursor = step, StepStartedAtMs = nowMs };
                SendAttempt(1);
                return;
            }

            _state = _state with { Status = SagaStatus.Compensated, Cursor = -1, Attempt = 0, ArmedTimer = null };
            Note("compensated");
        }

        void SendAttempt(int attempt)
        {
            bool action = _state.Status == SagaStatus.Running;
            SagaPhase phase = action ? SagaPhase.Action : SagaPhase.Compensation;
            int cursor = _state.Cursor;
            SagaStep<TData, TCommand> step = Steps[cursor];
            string key = IdempotencyKey(_state.SagaId, step.Name, phase);
            var context = new CommandContext(_state.SagaId, step.Name, phase, attempt, key);
            Func<TData, CommandContext, TCommand>? factory = action ? step.Action : step.Compensation;
            Invariant.Assert(factory is not null);
            _effects.Add(new SendCommand<TCommand>(factory(_state.Data, context), step.Name, phase, attempt, key));
            _state = _state with { Attempt = attempt };

            long dueAtMs = nowMs + (action ? step.AttemptTimeoutMs : definition.CompensationAttemptTimeoutMs);
            if (action && step.Kind == StepKind.Compensatable)
            {
                // Wake at the deadline even mid-attempt: a stalled service must not hold the saga past it.
                dueAtMs = Math.Min(dueAtMs, _state.StepStartedAtMs + step.DeadlineMs);
            }

            Arm(new SagaTimer(_state.SagaId, phase, cursor, attempt, TimerKind.ReplyTimeout), dueAtMs);
        }

        void Arm(SagaTimer timer, long dueAtMs)
        {
            Invariant.Assert(dueAtMs >= nowMs);
            _state = _state with { ArmedTimer = timer };
            _effects.Add(new ScheduleTimer<TCommand>(timer, dueAtMs));
        }

        int IndexOf(string name)
        {
            for (int i = 0; i < Steps.Length; i++)
            {
                if (Steps[i].Name == name)
                {
                    return i;
                }
            }

            throw new InvariantViolationException("no step named " + name);
        }

        public SagaDecision<TData, TCommand> Finish(SagaEvent @event, string from)
        {
            ImmutableArray<SagaEffect<TCommand>> effects = _effects.ToImmutable();
            var next = _state with { Outcomes = [.. _outcomes], LastEventAtMs = nowMs };
            var transition = new SagaTransition<TCommand>(nowMs, from, @event, definition.Describe(next), effects, string.Join("; ", _notes));
            next = next with { History = _before.History.Add(transition) };
            CheckInvariants(next, effects);
            return new SagaDecision<TData, TCommand>(next, effects);
        }

        void CheckInvariants(SagaState<TData, TCommand> next, ImmutableArray<SagaEffect<TCommand>> effects)
        {
            Invariant.Assert(next.History.Count == _before.History.Count + 1);
            Invariant.Assert(next.LastEventAtMs >= _before.LastEventAtMs);
            Invariant.Assert(effects.Count(e => e is SendCommand<TCommand>) <= 1); // one command in flight at a time
            Invariant.Assert(effects.Count(e => e is ScheduleTimer<TCommand>) <= 1);
            Invariant.Assert(!_before.IsTerminal || (effects.IsEmpty && next.Status == _before.Status)); // terminal states absorb
            ImmutableArray<StepOutcome> outcomes = next.Outcomes;
            switch (next.Status)
            {
                case SagaStatus.Running:
                    Invariant.Assert(next.Cursor >= 0 && next.Cursor < outcomes.Length);
                    Invariant.Assert(outcomes[next.Cursor] == StepOutcome.InProgress);
                    Invariant.Assert(outcomes.Take(next.Cursor).All(o => o == StepOutcome.Succeeded));
                    Invariant.Assert(outcomes.Skip(next.Cursor + 1).All(o => o == StepOutcome.NotStarted));
                    Invariant.Assert(next.ArmedTimer is { Phase: SagaPhase.Action } && next.ArmedTimer.Step == next.Cursor);
                    Invariant.Assert(next.Attempt >= 1);
                    break;
                case SagaStatus.Compensating:
                    Invariant.Assert(next.Cursor >= 0 && next.Cursor < outcomes.Length);
                    Invariant.Assert(outcomes[next.Cursor] == StepOutcome.Compensating);
                    Invariant.Assert(outcomes.Count(o => o == StepOutcome.Compensating) == 1);
                    Invariant.Assert(!outcomes.Contains(StepOutcome.InProgress));
                    Invariant.Assert(outcomes.Skip(next.Cursor + 1).All(o => o is StepOutcome.Compensated or StepOutcome.NothingToUndo or StepOutcome.Failed or StepOutcome.NotStarted));
                    Invariant.Assert(next.ArmedTimer is { Phase: SagaPhase.Compensation } && next.ArmedTimer.Step == next.Cursor);
                    Invariant.Assert(next.FailureReason is not null);
                    break;
                case SagaStatus.Completed:
                    Invariant.Assert(outcomes.All(o => o == StepOutcome.Succeeded));
                    Invariant.Assert(next.ArmedTimer is null);
                    break;
                case SagaStatus.Compensated:
                    Invariant.Assert(outcomes.All(o => o is StepOutcome.Compensated or StepOutcome.NothingToUndo or StepOutcome.Failed or StepOutcome.NotStarted));
                    Invariant.Assert(next.ArmedTimer is null);
                    Invariant.Assert(next.FailureReason is not null);
                    break;
                default:
                    Invariant.Fail("unknown saga status " + next.Status);
                    break;
            }
        }
    }
}
