using CsCheck;

namespace Concord.Simulation.Tests;

public class EventQueueTests
{
    [Fact]
    public void Equal_times_pop_in_insertion_order()
    {
        var queue = new EventQueue<int>(1 << 16);
        for (int i = 0; i < 1000; i++)
        {
            queue.Push(new SimEvent<int> { TimeUs = 5, Sequence = i, Message = i });
        }

        for (int i = 0; i < 1000; i++)
        {
            queue.Pop(out SimEvent<int> next);
            Assert.Equal(i, next.Message);
        }

        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Pops_in_time_then_sequence_order_for_any_push_sequence()
    {
        Gen.Int[0, 20].Array[0, 300].Sample(times =>
        {
            var queue = new EventQueue<int>(1 << 16, initialCapacity: 2);
            for (int i = 0; i < times.Length; i++)
            {
                queue.Push(new SimEvent<int> { TimeUs = times[i], Sequence = i, Message = i });
            }

            var expected = times.Select((time, i) => (time, i)).OrderBy(e => e.time).ThenBy(e => e.i).Select(e => e.i).ToArray();
            var actual = new int[times.Length];
            for (int i = 0; i < actual.Length; i++)
            {
                queue.Pop(out SimEvent<int> next);
                actual[i] = next.Message;
            }

            return expected.SequenceEqual(actual);
        });
    }

    [Fact]
    public void Refuses_to_grow_past_its_bound()
    {
        var queue = new EventQueue<int>(16, initialCapacity: 16);
        for (int i = 0; i < 16; i++)
        {
            queue.Push(new SimEvent<int> { TimeUs = i, Sequence = i });
        }

        var error = Assert.Throws<InvalidOperationException>(() => queue.Push(new SimEvent<int> { TimeUs = 99, Sequence = 99 }));
        Assert.Contains("event queue full", error.Message, StringComparison.Ordinal);
    }
}
