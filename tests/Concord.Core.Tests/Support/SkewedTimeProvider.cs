using Microsoft.Extensions.Time.Testing;

namespace Concord.Core.Tests.Support;

/// <summary>
/// A node's wall clock: shared simulated true time (a <see cref="FakeTimeProvider"/>, which only
/// moves forward) plus this node's <see cref="Skew"/>, which can jump either way as NTP steps do.
/// </summary>
public sealed class SkewedTimeProvider(FakeTimeProvider truth) : TimeProvider
{
    public TimeSpan Skew { get; set; }

    public override DateTimeOffset GetUtcNow() => truth.GetUtcNow() + Skew;
}
