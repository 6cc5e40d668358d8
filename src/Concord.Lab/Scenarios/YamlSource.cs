using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

/// <summary>
/// YAML text to the representation model's root node, with every problem of the text itself
/// (syntax, duplicate keys, unknown aliases, several documents, no document) reported as a located
/// <see cref="ScenarioError"/>.
/// </summary>
/// <remarks>
/// A first pass walks the parser's events. YamlDotNet's loader stops at the first duplicate key
/// and does not say where in the schema it is; the event pass reports every duplicate with its
/// field path, and catches unknown aliases where they are used (the loader reports them at 1:1).
/// Only text that passes is loaded into a <see cref="YamlStream"/>.
/// </remarks>
internal static class YamlSource
{
    public static YamlNode? Load(string yaml, ScenarioDiagnostics diagnostics)
    {
        var errorsBefore = diagnostics.Count;
        var documents = CheckEvents(yaml, diagnostics);
        if (diagnostics.Count > errorsBefore)
        {
            return null;
        }

        if (documents == 0)
        {
            diagnostics.Report(Mark.Empty, "", "the file holds no YAML document; a scenario is a mapping that starts with 'name:'");
            return null;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            // The event pass accepted the text, so this is rare (e.g. two complex keys that are equal).
            diagnostics.Report(e.Start, "", $"not valid YAML: {LowerFirst(e.Message)}");
            return null;
        }

        return stream.Documents[0].RootNode;
    }

    /// <summary>One pass over the events: reports syntax errors, duplicate keys, unknown aliases and extra documents; returns the number of documents.</summary>
    static int CheckEvents(string yaml, ScenarioDiagnostics diagnostics)
    {
        var parser = new Parser(new StringReader(yaml));
        var open = new Stack<Collection>();
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var documents = 0;
        var lastGood = Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                lastGood = current.Start;
                if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
                {
                    anchors.Add(anchored.Anchor.Value);
                }

                switch (current)
                {
                    case DocumentStart:
                        documents++;
                        if (documents == 2)
                        {
                            diagnostics.Report(current.Start, "", "a scenario file holds one YAML document; this is a second one (remove the '---' and what follows, or split the file)");
                        }

                        break;
                    case Scalar scalar:
                        CheckKey(open, scalar.Value, scalar.Start, diagnostics);
                        NodeDone(open);
                        break;
                    case AnchorAlias alias:
                        if (!anchors.Contains(alias.Value.Value))
                        {
                            diagnostics.Report(alias.Start, PathOfNextNode(open), $"unknown alias '*{alias.Value.Value}': no '&{alias.Value.Value}' is defined before it");
                        }

                        CheckKey(open, "*" + alias.Value.Value, alias.Start, diagnostics);
                        NodeDone(open);
                        break;
                    case MappingStart:
                        open.Push(new Collection(PathOfNextNode(open), IsMapping: true));
                        break;
                    case SequenceStart:
                        open.Push(new Collection(PathOfNextNode(open), IsMapping: false));
                        break;
                    case MappingEnd or SequenceEnd:
                        open.Pop();
                        NodeDone(open);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            diagnostics.Report(e.Start, "", $"not valid YAML: {LowerFirst(e.Message)}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18's scanner throws this instead of a YamlException for some unclosed flow
            // collections, e.g. "a: [1, 2" followed by more lines. The last event it produced is the best position we have.
            diagnostics.Report(lastGood, "", "not valid YAML after this point: look for an unclosed '[', '{' or quote");
        }

        return documents;
    }

    /// <summary>An open mapping or list, as the event pass tracks it to name paths and spot duplicate keys.</summary>
    sealed record Collection(string Path, bool IsMapping)
    {
        /// <summary>For a mapping: whether the next node is a key (keys and values alternate).</summary>
        public bool ExpectingKey { get; set; } = true;

        /// <summary>For a mapping: the key whose value comes next.</summary>
        public string Key { get; set; } = "";

        /// <summary>For a list: the index of the next item.</summary>
        public int Index { get; set; }

        /// <summary>For a mapping: the keys seen so far, with where each was first written.</summary>
        public Dictionary<string, Mark> Keys { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>YamlDotNet's messages are sentences; after "not valid YAML:" they read better in lower case.</summary>
    static string LowerFirst(string message) =>
        message.Length > 1 && char.IsUpper(message[0]) && !char.IsUpper(message[1]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;

    static void CheckKey(Stack<Collection> open, string key, Mark at, ScenarioDiagnostics diagnostics)
    {
        if (!open.TryPeek(out var parent) || !parent.IsMapping || !parent.ExpectingKey)
        {
            return;
        }

        parent.Key = key;
        if (!parent.Keys.TryAdd(key, at))
        {
            diagnostics.Report(at, YamlMap.Join(parent.Path, key), $"duplicate key: already set on line {parent.Keys[key].Line}");
        }
    }

    /// <summary>A key, a value or a list item is complete: move the parent to its next slot.</summary>
    static void NodeDone(Stack<Collection> open)
    {
        if (!open.TryPeek(out var parent))
        {
            return;
        }

        if (parent.IsMapping)
        {
            parent.ExpectingKey = !parent.ExpectingKey;
        }
        else
        {
            parent.Index++;
        }
    }

    static string PathOfNextNode(Stack<Collection> open)
    {
        if (!open.TryPeek(out var parent))
        {
            return "";
        }

        if (!parent.IsMapping)
        {
            return $"{parent.Path}[{parent.Index}]";
        }

        // A collection used as a key has no name of its own; name it after its mapping.
        return parent.ExpectingKey ? parent.Path : YamlMap.Join(parent.Path, parent.Key);
    }
}
