/**
 * CDK entry point (`app` in cdk.json). `npx cdk synth` builds the `dev` stage; `-c stage=prod` another one.
 */
import { buildGhtraderApp } from './build-app.ts';

buildGhtraderApp().app.synth();
