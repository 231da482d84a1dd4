/**
 * The script editor: CodeMirror 6 with JavaScript, a dark theme from the playground's colours
 * (shared/theme.css variables), completions of every gmnet name, gmnet's functions and constants
 * highlighted, the failing line of a script error marked, and Ctrl/Cmd-Enter to run.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { autocompletion, closeBrackets, closeBracketsKeymap, completeFromList, completionKeymap, ifNotIn } from "@codemirror/autocomplete";
import { javascript, javascriptLanguage } from "@codemirror/lang-javascript";
import { HighlightStyle, bracketMatching, foldGutter, foldKeymap, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { type Diagnostic, lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState, type Extension, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  type DecorationSet,
  EditorView,
  MatchDecorator,
  ViewPlugin,
  type ViewUpdate,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

export type NameKind = "function" | "constant" | "class" | "variable";

export interface EditorOptions {
  readonly doc: string;
  /** Every free identifier of a script, for completions and highlighting. */
  readonly names: ReadonlyArray<readonly [string, NameKind]>;
  /** Ctrl/Cmd-Enter. */
  readonly onRun: () => void;
  /** After every edit. */
  readonly onChange: (code: string) => void;
}

export interface ScriptEditor {
  readonly view: EditorView;
  code(): string;
  /** Replaces the script (another example); the undo history starts afresh. */
  setCode(code: string): void;
  /** Marks `line` (1-based) with the error, and scrolls to it. */
  markProblem(line: number, message: string): void;
  clearProblem(): void;
  focus(): void;
}

const theme = EditorView.theme(
  {
    "&": { color: "var(--text)", backgroundColor: "var(--panel)", height: "100%", fontSize: "13px" },
    ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55", overflow: "auto" },
    ".cm-content": { caretColor: "var(--accent)", padding: "10px 0" },
    "&.cm-focused": { outline: "none" },
    "&.cm-focused .cm-cursor": { borderLeftColor: "var(--accent)", borderLeftWidth: "2px" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection": {
      backgroundColor: "color-mix(in srgb, var(--accent-2) 30%, transparent)",
    },
    ".cm-gutters": { backgroundColor: "var(--panel)", color: "color-mix(in srgb, var(--muted) 75%, transparent)", border: "none", borderRight: "1px solid var(--border)" },
    ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--panel-raised) 70%, transparent)" },
    ".cm-activeLineGutter": { backgroundColor: "var(--panel-raised)", color: "var(--text)" },
    ".cm-matchingBracket, &.cm-focused .cm-matchingBracket": { backgroundColor: "color-mix(in srgb, var(--accent) 22%, transparent)", outline: "none" },
    ".cm-foldPlaceholder": { backgroundColor: "var(--panel-raised)", border: "1px solid var(--border)", color: "var(--muted)" },
    ".cm-tooltip": { backgroundColor: "var(--panel-raised)", border: "1px solid var(--border)", color: "var(--text)", borderRadius: "6px" },
    ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "color-mix(in srgb, var(--accent) 25%, var(--panel-raised))", color: "var(--text)" },
    ".cm-completionDetail": { color: "var(--muted)", fontStyle: "normal" },
    ".cm-gmnet-name": { color: "var(--accent)" },
    ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--error)", textUnderlineOffset: "3px" },
    ".cm-diagnostic-error": { borderLeftColor: "var(--error)" },
    ".cm-problem-line": { backgroundColor: "color-mix(in srgb, var(--error) 14%, transparent)" },
  },
  { dark: true },
);

const highlighting = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.moduleKeyword, tags.operatorKeyword], color: "#c4b5fd" },
  { tag: [tags.definitionKeyword, tags.modifier], color: "#a78bfa" },
  { tag: [tags.string, tags.special(tags.string), tags.regexp], color: "#86efac" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#fbbf24" },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "#6b7489", fontStyle: "italic" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: "#7dd3fc" },
  { tag: tags.definition(tags.variableName), color: "#f0abfc" },
  { tag: tags.propertyName, color: "#cbd5e1" },
  { tag: [tags.operator, tags.punctuation, tags.bracket], color: "#94a3b8" },
  { tag: tags.invalid, color: "var(--error)" },
]);

/** gmnet's functions and constants in the accent colour, so engine calls stand out from the script's own code. */
function gmnetNames(names: ReadonlySet<string>) {
  const mark = Decoration.mark({ class: "cm-gmnet-name" });
  const decorator = new MatchDecorator({
    regexp: /\b[A-Za-z_$][\w$]*\b/g,
    decorate: (add, from, to, match) => {
      if (names.has(match[0])) add(from, to, mark);
    },
  });
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      constructor(view: EditorView) {
        this.decorations = decorator.createDeco(view);
      }
      update(update: ViewUpdate): void {
        this.decorations = decorator.updateDeco(update, this.decorations);
      }
    },
    { decorations: (plugin) => plugin.decorations },
  );
}

/** A whole-line tint on the failing line, besides the lint underline; it moves with edits. */
const problemLine = Decoration.line({ class: "cm-problem-line" });
const setProblemLine = StateEffect.define<number | undefined>();
const problemField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setProblemLine)) return effect.value === undefined ? Decoration.none : Decoration.set([problemLine.range(effect.value)]);
    return value.map(tr.changes);
  },
  provide: (field) => EditorView.decorations.from(field),
});

export function createEditor(parent: HTMLElement, options: EditorOptions): ScriptEditor {
  const names = new Set(options.names.map(([name]) => name));
  const completions = options.names.map(([label, type]) => ({ label, type, detail: type === "function" ? "gmnet" : undefined, boost: type === "function" ? 1 : 0 }));
  let marked = false;

  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLineGutter(),
    foldGutter(),
    lintGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    indentUnit.of("  "),
    EditorState.tabSize.of(2),
    syntaxHighlighting(highlighting),
    bracketMatching(),
    closeBrackets(),
    autocompletion({ activateOnTyping: true, maxRenderedOptions: 60 }),
    highlightActiveLine(),
    highlightSelectionMatches(),
    javascript(),
    javascriptLanguage.data.of({ autocomplete: ifNotIn(["String", "TemplateString", "LineComment", "BlockComment"], completeFromList(completions)) }),
    gmnetNames(names),
    problemField,
    theme,
    EditorView.contentAttributes.of({ "aria-label": "Script editor", "data-testid": "editor-content" }),
    keymap.of([
      // Before the default keymap, whose Mod-Enter/Shift-Enter insert lines.
      { key: "Mod-Enter", run: () => (options.onRun(), true), preventDefault: true },
      { key: "Shift-Enter", run: () => (options.onRun(), true), preventDefault: true },
      ...closeBracketsKeymap,
      ...completionKeymap,
      ...foldKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...defaultKeymap,
      indentWithTab,
    ]),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) options.onChange(update.state.doc.toString());
    }),
  ];

  const view = new EditorView({ parent, state: EditorState.create({ doc: options.doc, extensions }) });

  return {
    view,
    code: () => view.state.doc.toString(),
    setCode(code) {
      marked = false;
      // A fresh state: the undo history, the diagnostics and the problem line start afresh.
      view.setState(EditorState.create({ doc: code, extensions }));
      view.scrollDOM.scrollTop = 0;
      options.onChange(code);
    },
    markProblem(line, message) {
      if (line < 1 || line > view.state.doc.lines) return;
      const { from, to } = view.state.doc.line(line);
      const indent = /^\s*/.exec(view.state.sliceDoc(from, to))?.[0].length ?? 0;
      const diagnostic: Diagnostic = { from: Math.min(from + indent, to), to, severity: "error", message };
      marked = true;
      view.dispatch(setDiagnostics(view.state, [diagnostic]));
      view.dispatch({ effects: [setProblemLine.of(from), EditorView.scrollIntoView(from, { y: "center" })] });
    },
    clearProblem() {
      if (!marked) return;
      marked = false;
      view.dispatch(setDiagnostics(view.state, []));
      view.dispatch({ effects: setProblemLine.of(undefined) });
    },
    focus: () => view.focus(),
  };
}
