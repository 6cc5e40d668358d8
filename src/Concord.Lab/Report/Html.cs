using System.Text;

namespace Concord.Lab.Report;

internal static class Html
{
    /// <summary>Escapes text for HTML element content and quoted attribute values.</summary>
    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            string? entity = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            };
            if (entity is null)
            {
                escaped.Append(c);
            }
            else
            {
                escaped.Append(entity);
            }
        }
        return escaped.ToString();
    }
}
