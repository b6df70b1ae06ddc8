import { describe, expect, it } from "vitest";
import { UndoStack } from "./index";

describe("UndoStack", () => {
  it("undoes and redoes in order", () => {
    const s = new UndoStack("a");
    s.push("b");
    s.push("c");
    expect(s.undo()).toBe("b");
    expect(s.undo()).toBe("a");
    expect(s.undo()).toBeNull();
    expect(s.redo()).toBe("b");
    expect(s.current).toBe("b");
  });

  it("drops the redo branch on a new edit", () => {
    const s = new UndoStack(1);
    s.push(2);
    s.undo();
    s.push(3);
    expect(s.canRedo).toBe(false);
    expect(s.undo()).toBe(1);
  });

  it("keeps at most `limit` steps", () => {
    const s = new UndoStack(0, 3);
    for (let i = 1; i <= 10; i++) s.push(i);
    let n = 0;
    while (s.undo() !== null) n++;
    expect(n).toBe(3);
    expect(s.current).toBe(7);
  });

  it("replace changes the present without a step; reset clears history", () => {
    const s = new UndoStack("a");
    s.push("b");
    s.replace("b2");
    expect(s.undo()).toBe("a");
    expect(s.redo()).toBe("b2");
    s.reset("z");
    expect(s.canUndo || s.canRedo).toBe(false);
    s.push("z");
    expect(s.canUndo).toBe(false);
  });
});
