import type { FileDirectives } from '../policy/fileDirectives';
import { firstMatch } from '../policy/pathGlobs';
import type { Policy } from '../policy/policy';
import type { PrivacyClass } from '../policy/privacy';

/** A file a chat request involves: the active editor's, or one the messages reference or carry. */
export interface ChatFile {
  /** Workspace-relative and `/`-separated when inside the workspace, else as the messages wrote it. */
  path: string;
  /** Its `coderoute:` directives, when its first lines could be read. */
  directives?: FileDirectives;
  active: boolean;
}

export type ChatPrivacy = { refused: string } | { privacy: PrivacyClass; why?: string };

function which(file: ChatFile): string {
  return file.active ? `the active editor, ${file.path},` : `the request carries ${file.path}, which`;
}

/**
 * Where a chat request may go, from every file it involves. Fails closed: the active editor counts
 * whether or not the message mentions it (VS Code may attach it on its own), and one `no-ai` file
 * refuses the whole request; one `local-only` file keeps it to models tagged local.
 */
export function chatPrivacy(files: readonly ChatFile[], policy: Policy): ChatPrivacy {
  for (const file of files) {
    const glob = firstMatch(file.path, policy.privacy.noAi);
    if (file.directives?.noAi || glob) {
      const reason = file.directives?.noAi ? 'is marked "coderoute: no-ai"' : `matches the no-AI path "${glob}" (coderoute.privacy.noAi)`;
      return { refused: `CodeRoute sent nothing: ${which(file)} ${reason}.` };
    }
  }
  for (const file of files) {
    const glob = firstMatch(file.path, policy.privacy.localOnly);
    if (file.directives?.localOnly || glob) {
      const reason = file.directives?.localOnly ? 'is marked "coderoute: local-only"' : `is in the local-only path "${glob}"`;
      return { privacy: 'local-only', why: `${which(file)} ${reason}` };
    }
  }
  return { privacy: 'any' };
}
