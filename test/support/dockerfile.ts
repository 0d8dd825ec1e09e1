// The Dockerfile read with a real parser (dockerfile-ast, the one behind the Docker language
// server) into plain data for the deployment tests: the build arguments, and each stage's image,
// name and instructions with their arguments, flags and exec-form (JSON) arguments.
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface DockerInstruction {
  keyword: string;
  /** The arguments after any --flags, as written (shell form: one per word). */
  args: string[];
  /** --name=value flags (COPY --from, HEALTHCHECK --interval …). */
  flags: Record<string, string>;
  /** The exec form's strings (CMD ["node", …]); undefined for the shell form. */
  exec: string[] | undefined;
  /** ENV and ARG: name → value. */
  properties: Record<string, string>;
}

export interface DockerStage {
  image: string;
  name: string | undefined;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: DockerStage[];
}

interface WithFlags {
  getFlags(): { getName(): string; getValue(): string | null }[];
}
interface WithJson {
  getJSONStrings(): { getJSONValue(): string }[];
}
interface WithProperties {
  getProperties(): { getName(): string; getValue(): string | null }[];
}

function plain(instruction: Instruction): DockerInstruction {
  const keyword = instruction.getKeyword().toUpperCase();
  const flags: Record<string, string> = {};
  if ('getFlags' in instruction) {
    for (const flag of (instruction as unknown as WithFlags).getFlags())
      flags[flag.getName()] = flag.getValue() ?? '';
  }
  const args = instruction.getArguments().map((argument) => argument.getValue());
  let exec: string[] | undefined;
  if ('getJSONStrings' in instruction) {
    const strings = (instruction as unknown as WithJson).getJSONStrings().map((s) => s.getJSONValue());
    if (strings.length > 0) exec = strings;
  } else if (keyword === 'HEALTHCHECK' && args[0]?.toUpperCase() === 'CMD' && args[1]?.startsWith('[')) {
    exec = JSON.parse(args.slice(1).join(' ')) as string[];
  }
  const properties: Record<string, string> = {};
  if ('getProperties' in instruction) {
    for (const property of (instruction as unknown as WithProperties).getProperties()) {
      properties[property.getName()] = property.getValue() ?? '';
    }
  }
  return { keyword, args, flags, exec, properties };
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const args: Record<string, string> = {};
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property !== null) args[property.getName()] = property.getValue() ?? '';
  }
  const stages: DockerStage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const step = plain(instruction);
    if (step.keyword === 'FROM') {
      const image = (step.args[0] ?? '').replace(/^\$\{(\w+)\}$|^\$(\w+)$/, (_, a, b) => args[a ?? b] ?? '');
      const as = step.args.findIndex((arg) => arg.toUpperCase() === 'AS');
      stages.push({ image, name: as >= 0 ? step.args[as + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)?.instructions.push(step);
    }
  }
  return { args, stages };
}

export function readDockerfile(path: string | URL): ParsedDockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}
