/**
 * The Electron side of the tray: renders tray-model.ts's model with Tray and Menu, and
 * nothing else. Every label, state and action is decided (and tested) in the model.
 */
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron';
import path from 'node:path';
import type { TrayAction, TrayMenuItem, TrayModel } from './tray-model.js';

function template(
  items: TrayMenuItem[],
  act: (a: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item) => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'action':
        return { label: item.label, enabled: item.enabled, click: () => act(item.action) };
      case 'submenu':
        return { label: item.label, submenu: template(item.items, act) };
    }
  });
}

export function createTray(iconDir: string, act: (a: TrayAction) => void) {
  let tray: Tray | undefined;
  let shown = '';
  return {
    render(model: TrayModel): void {
      const image = nativeImage.createFromPath(path.join(iconDir, model.icon));
      if (!tray) tray = new Tray(image);
      else if (shown !== model.icon) tray.setImage(image);
      shown = model.icon;
      tray.setToolTip(model.tooltip);
      if (process.platform === 'darwin') tray.setTitle(model.title);
      tray.setContextMenu(Menu.buildFromTemplate(template(model.menu, act)));
    },
    destroy: () => tray?.destroy(),
  };
}
