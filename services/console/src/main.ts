import './style.css';
import { startConsole } from './ui/app.js';

startConsole(document.getElementById('app')!);
